-- PMS sync jobs: requested by a schedule, a person ("Sync now"), a webhook that carries only an
-- id, or the end of a PMS outage; run by the worker, one at a time per PMS configuration.
--
--   pending --claim--> running --finish--> succeeded | failed
--      \--> cancelled                \--lease expired--> pending (or failed at max attempts)

-- ============================================================================================
-- Types
-- ============================================================================================
create type public.sync_kind as enum ('full', 'incremental', 'reservation');
create type public.sync_trigger as enum ('schedule', 'manual', 'recovery', 'webhook', 'initial');
create type public.sync_status as enum ('pending', 'running', 'succeeded', 'failed', 'cancelled');

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.sync_jobs (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  pms_configuration_id uuid not null,
  kind public.sync_kind not null,
  trigger public.sync_trigger not null,
  -- For kind = reservation: the PMS's reservation id.
  pms_reservation_id text,
  requested_by uuid references auth.users (id) on delete set null,
  request_id text,
  status public.sync_status not null default 'pending',
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 3 check (max_attempts > 0),
  next_attempt_at timestamptz not null default now(),
  lease_owner text,
  lease_expires_at timestamptz,
  -- The window of PMS modification times this run covers.
  cursor_from timestamptz,
  cursor_to timestamptz,
  pages integer not null default 0 check (pages >= 0),
  created_count integer not null default 0 check (created_count >= 0),
  updated_count integer not null default 0 check (updated_count >= 0),
  unchanged_count integer not null default 0 check (unchanged_count >= 0),
  failed_count integer not null default 0 check (failed_count >= 0),
  error text,
  requested_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  foreign key (tenant_id, pms_configuration_id) references public.pms_configurations (tenant_id, id) on delete cascade,
  check ((kind = 'reservation') = (pms_reservation_id is not null)),
  check ((status = 'running') = (lease_owner is not null and lease_expires_at is not null))
);

-- At most one run per PMS configuration at a time, across all workers.
create unique index sync_jobs_one_running_idx on public.sync_jobs (pms_configuration_id)
where status = 'running';
-- Asking twice for the same sync while one waits gives the waiting one.
create unique index sync_jobs_one_pending_idx
on public.sync_jobs (pms_configuration_id, kind, coalesce(pms_reservation_id, ''))
where status = 'pending';
create index sync_jobs_claimable_idx on public.sync_jobs (next_attempt_at) where status = 'pending';
create index sync_jobs_tenant_requested_idx on public.sync_jobs (tenant_id, requested_at desc);

-- ============================================================================================
-- State machine and triggers
-- ============================================================================================
create function private.check_sync_job_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status and not (
    (old.status = 'pending' and new.status in ('running', 'cancelled'))
    or (old.status = 'running' and new.status in ('pending', 'succeeded', 'failed'))
  ) then
    raise exception 'sync job %: % -> % is not allowed', old.id, old.status, new.status
      using errcode = 'check_violation';
  end if;
  new.updated_at := now();
  return new;
end
$$;

create trigger sync_jobs_transition before update on public.sync_jobs
for each row execute function private.check_sync_job_transition();

create trigger sync_jobs_forbid_tenant_change before update on public.sync_jobs
for each row execute function private.forbid_tenant_change();

create function private.notify_sync_jobs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('sync_jobs', '');
  return null;
end
$$;

create trigger sync_jobs_notify after insert on public.sync_jobs
for each statement execute function private.notify_sync_jobs();

-- ============================================================================================
-- Requesting a sync
-- ============================================================================================
create function private.enqueue_sync(
  p_pms_configuration_id uuid,
  p_kind public.sync_kind,
  p_trigger public.sync_trigger,
  p_pms_reservation_id text,
  p_requested_by uuid,
  p_request_id text
) returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_tenant uuid;
  v_job uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  if v_tenant is null then
    raise exception 'PMS configuration % not found', p_pms_configuration_id using errcode = 'no_data_found';
  end if;
  insert into public.sync_jobs (tenant_id, pms_configuration_id, kind, trigger, pms_reservation_id,
                                requested_by, request_id)
  values (v_tenant, p_pms_configuration_id, p_kind, p_trigger, p_pms_reservation_id, p_requested_by,
          p_request_id)
  on conflict (pms_configuration_id, kind, coalesce(pms_reservation_id, '')) where status = 'pending'
  do nothing
  returning id into v_job;
  if v_job is null then
    select j.id into v_job from public.sync_jobs j
    where j.pms_configuration_id = p_pms_configuration_id and j.kind = p_kind
      and coalesce(j.pms_reservation_id, '') = coalesce(p_pms_reservation_id, '')
      and j.status = 'pending';
  end if;
  return v_job;
end
$$;

-- "Sync now" from the dashboard (owners and admins): returns the job id to follow.
create function public.request_sync(p_pms_configuration_id uuid, p_kind public.sync_kind default 'incremental')
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  if v_tenant is null then
    raise exception 'PMS configuration % not found', p_pms_configuration_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_tenant, '{owner,admin}');
  if p_kind = 'reservation' then
    raise exception 'a manual sync is full or incremental' using errcode = 'invalid_parameter_value';
  end if;
  return private.enqueue_sync(p_pms_configuration_id, p_kind, 'manual', null, (select auth.uid()), null);
end
$$;

revoke all on function public.request_sync(uuid, public.sync_kind) from public, anon;
grant execute on function public.request_sync(uuid, public.sync_kind) to authenticated, service_role;

-- ============================================================================================
-- Service API (the worker)
-- ============================================================================================
create function public.enqueue_sync_v1(
  p_pms_configuration_id uuid,
  p_kind public.sync_kind,
  p_trigger public.sync_trigger,
  p_pms_reservation_id text default null,
  p_request_id text default null
) returns uuid
language sql
set search_path = ''
as $$
  select private.enqueue_sync(p_pms_configuration_id, p_kind, p_trigger, p_pms_reservation_id, null, p_request_id)
$$;

create function public.reclaim_sync_jobs_v1() returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  with expired as (
    select j.id from public.sync_jobs j
    where j.status = 'running' and j.lease_expires_at < now()
    for update skip locked
  )
  update public.sync_jobs j
  set status = case when j.attempts >= j.max_attempts then 'failed' else 'pending' end::public.sync_status,
      error = format('lease of %s expired (attempt %s of %s)', j.lease_owner, j.attempts, j.max_attempts),
      finished_at = case when j.attempts >= j.max_attempts then now() end,
      lease_owner = null,
      lease_expires_at = null
  from expired
  where j.id = expired.id
    -- A pending twin may exist already; then this run is given up rather than duplicated.
    and (j.attempts >= j.max_attempts or not exists (
      select 1 from public.sync_jobs p
      where p.pms_configuration_id = j.pms_configuration_id and p.kind = j.kind
        and coalesce(p.pms_reservation_id, '') = coalesce(j.pms_reservation_id, '')
        and p.status = 'pending'));
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Claims one due job whose configuration has no running job.
create function public.claim_sync_job_v1(p_worker text, p_lease interval default '5 minutes')
returns setof public.sync_jobs
language plpgsql
set search_path = ''
as $$
begin
  perform public.reclaim_sync_jobs_v1();
  return query
  with due as (
    select j.id from public.sync_jobs j
    where j.status = 'pending' and j.next_attempt_at <= now()
      and not exists (
        select 1 from public.sync_jobs r
        where r.pms_configuration_id = j.pms_configuration_id and r.status = 'running')
    order by j.next_attempt_at, j.requested_at
    limit 1
    for update skip locked
  )
  update public.sync_jobs j
  set status = 'running', attempts = j.attempts + 1, lease_owner = p_worker,
      lease_expires_at = now() + p_lease, started_at = now()
  from due
  where j.id = due.id
  returning j.*;
exception
  -- Another worker started a job of the same configuration in the meantime: nothing to claim.
  when unique_violation then
    return;
end
$$;

-- Extends the lease of a long sync; false when the lease was lost.
create function public.heartbeat_sync_job_v1(p_job_id uuid, p_worker text, p_lease interval default '5 minutes')
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.sync_jobs j set lease_expires_at = now() + p_lease
  where j.id = p_job_id and j.status = 'running' and j.lease_owner = p_worker;
  return found;
end
$$;

create function public.finish_sync_job_v1(
  p_job_id uuid,
  p_worker text,
  p_succeeded boolean,
  p_counts jsonb default '{}'::jsonb,
  p_error text default null
) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.sync_jobs j
  set status = case when p_succeeded then 'succeeded' else 'failed' end::public.sync_status,
      pages = coalesce((p_counts ->> 'pages')::integer, j.pages),
      created_count = coalesce((p_counts ->> 'created')::integer, j.created_count),
      updated_count = coalesce((p_counts ->> 'updated')::integer, j.updated_count),
      unchanged_count = coalesce((p_counts ->> 'unchanged')::integer, j.unchanged_count),
      failed_count = coalesce((p_counts ->> 'failed')::integer, j.failed_count),
      cursor_from = coalesce((p_counts ->> 'cursor_from')::timestamptz, j.cursor_from),
      cursor_to = coalesce((p_counts ->> 'cursor_to')::timestamptz, j.cursor_to),
      error = left(p_error, 4000),
      finished_at = now(),
      lease_owner = null,
      lease_expires_at = null
  where j.id = p_job_id and j.status = 'running' and j.lease_owner = p_worker;
  return found;
end
$$;

revoke all on function public.enqueue_sync_v1(uuid, public.sync_kind, public.sync_trigger, text, text) from public, anon, authenticated;
revoke all on function public.reclaim_sync_jobs_v1() from public, anon, authenticated;
revoke all on function public.claim_sync_job_v1(text, interval) from public, anon, authenticated;
revoke all on function public.heartbeat_sync_job_v1(uuid, text, interval) from public, anon, authenticated;
revoke all on function public.finish_sync_job_v1(uuid, text, boolean, jsonb, text) from public, anon, authenticated;
grant execute on function public.enqueue_sync_v1(uuid, public.sync_kind, public.sync_trigger, text, text) to service_role;
grant execute on function public.reclaim_sync_jobs_v1() to service_role;
grant execute on function public.claim_sync_job_v1(text, interval) to service_role;
grant execute on function public.heartbeat_sync_job_v1(uuid, text, interval) to service_role;
grant execute on function public.finish_sync_job_v1(uuid, text, boolean, jsonb, text) to service_role;

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.sync_jobs enable row level security;

revoke all on public.sync_jobs from anon, authenticated;
grant select on public.sync_jobs to authenticated;
grant all on public.sync_jobs to service_role;

create policy "Sync jobs are visible to members of their tenant"
on public.sync_jobs for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));
