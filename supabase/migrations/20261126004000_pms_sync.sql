-- PMS sync: how a run ends (cursor and health in one transaction), batch upserts, the schedule
-- (pg_cron, every sync_interval_minutes per active configuration) and automatic recovery:
--
--   * a PMS answering 401/403 marks its configuration failing with the reason and pauses its
--     syncs (no retry storm) until someone sets new credentials, which starts a recovery sync;
--   * a PMS that was unreachable and answers again (health failing -> ok without the cursor
--     moving, e.g. a webhook fetch succeeded) gets an incremental 'recovery' sync from the last
--     good cursor, closing the gap the outage left.

-- ============================================================================================
-- Extensions
-- ============================================================================================
-- As Supabase installs it (the dashboard does the same): objects in the `cron` schema.
create extension if not exists pg_cron with schema pg_catalog;

-- ============================================================================================
-- Tables
-- ============================================================================================
-- Set when the PMS rejected the credentials: scheduled and webhook syncs are not attempted
-- (each would be another 401) until the credentials change or a manual sync succeeds.
alter table public.pms_configurations
  add column sync_paused_reason text,
  add column sync_paused_at timestamptz,
  add constraint pms_configurations_sync_paused_check
    check ((sync_paused_reason is null) = (sync_paused_at is null));

-- The scheduler asks "when was this configuration's last sync requested?" once a minute.
create index sync_jobs_configuration_requested_idx
on public.sync_jobs (pms_configuration_id, requested_at desc)
where kind in ('full', 'incremental');

-- ============================================================================================
-- Triggers: recovery
-- ============================================================================================

-- New credentials lift a pause (the next sync will tell whether they work). Only
-- set_pms_credentials writes credentials_set_at, so every such update is an admin saving
-- credentials, even one that lands on the same instant (the same transaction).
create function private.lift_sync_pause_on_new_credentials() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.sync_paused_reason := null;
  new.sync_paused_at := null;
  return new;
end
$$;

create trigger pms_configurations_lift_sync_pause before update of credentials_set_at
on public.pms_configurations
for each row execute function private.lift_sync_pause_on_new_credentials();

-- Credentials set for the first time: a full sync brings in the existing reservations.
-- Credentials replaced after a failure: an incremental sync from the last good cursor.
create function private.sync_after_new_credentials() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not new.is_active then
    return null;
  end if;
  if new.sync_cursor is null then
    perform private.enqueue_sync(new.id, 'full', 'initial', null, null, null);
  elsif old.health = 'failing' or old.sync_paused_reason is not null then
    perform private.enqueue_sync(new.id, 'incremental', 'recovery', null, null, null);
  end if;
  return null;
end
$$;

create trigger pms_configurations_sync_after_new_credentials after update of credentials_set_at
on public.pms_configurations
for each row when (new.credentials_set_at is not null)
execute function private.sync_after_new_credentials();

-- The PMS answers again after failing, and what answered was not a sync that moved the cursor
-- (that one has closed the gap itself): sync what changed since the last good cursor.
create function private.sync_after_outage() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform private.enqueue_sync(new.id, 'incremental', 'recovery', null, null, null);
  return null;
end
$$;

create trigger pms_configurations_sync_after_outage after update of health
on public.pms_configurations
for each row
when (old.health = 'failing' and new.health = 'ok' and new.sync_cursor is not distinct from old.sync_cursor
      and new.is_active)
execute function private.sync_after_outage();

-- ============================================================================================
-- Service API (the worker)
-- ============================================================================================

-- Ends a sync run and records what it says about the PMS, atomically: the job's counts, the
-- configuration's cursor (moved forward only, only on success) and its health.
--   p_pms_outcome: 'ok' (the PMS answered), 'unreachable' (timeouts, 5xx, 429 beyond patience),
--   'rejected' (401/403: credentials; also pauses syncs), or null (nothing learnt about the PMS).
-- False when the caller no longer holds the job's lease (nothing is changed then).
create function public.finish_pms_sync_v1(
  p_job_id uuid,
  p_worker text,
  p_succeeded boolean,
  p_counts jsonb,
  p_error text,
  p_pms_outcome text,
  p_cursor timestamptz default null
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_config uuid;
begin
  if p_pms_outcome is not null and p_pms_outcome not in ('ok', 'unreachable', 'rejected') then
    raise exception 'unknown PMS outcome %', p_pms_outcome using errcode = 'invalid_parameter_value';
  end if;
  select j.pms_configuration_id into v_config from public.sync_jobs j where j.id = p_job_id;
  if not public.finish_sync_job_v1(p_job_id, p_worker, p_succeeded, p_counts, p_error) then
    return false;
  end if;

  update public.pms_configurations c
  set sync_cursor = case
        when p_succeeded and p_cursor is not null then greatest(coalesce(c.sync_cursor, p_cursor), p_cursor)
        else c.sync_cursor
      end,
      health = case p_pms_outcome
        when 'ok' then 'ok'
        when 'unreachable' then 'failing'
        when 'rejected' then 'failing'
        else c.health
      end::public.integration_health,
      consecutive_failures = case
        when p_pms_outcome = 'ok' then 0
        when p_pms_outcome in ('unreachable', 'rejected') then c.consecutive_failures + 1
        else c.consecutive_failures
      end,
      last_error = case when p_pms_outcome in ('unreachable', 'rejected') then left(p_error, 4000) else c.last_error end,
      last_error_at = case when p_pms_outcome in ('unreachable', 'rejected') then now() else c.last_error_at end,
      last_success_at = case when p_pms_outcome = 'ok' then now() else c.last_success_at end,
      sync_paused_reason = case
        when p_pms_outcome = 'rejected' then coalesce(left(p_error, 4000), 'the PMS rejected the credentials')
        when p_pms_outcome = 'ok' then null
        else c.sync_paused_reason
      end,
      sync_paused_at = case
        when p_pms_outcome = 'rejected' then coalesce(c.sync_paused_at, now())
        when p_pms_outcome = 'ok' then null
        else c.sync_paused_at
      end
  where c.id = v_config;
  return true;
end
$$;

-- Upserts a page of canonical reservations in one call, one outcome per element: created,
-- updated, unchanged, stale, or failed with the error (an element that fails does not undo
-- the others). Two writers inserting the same new reservation at once meet on the unique key;
-- the loser retries once and finds the row.
create function public.upsert_reservations_v1(
  p_tenant_id uuid,
  p_reservations jsonb,
  p_request_id text default null,
  p_job_id uuid default null
) returns table (ord integer, pms_reservation_id text, reservation_id uuid, outcome text, error text)
language plpgsql
set search_path = ''
as $$
declare
  v_item jsonb;
  v_ord integer;
begin
  if jsonb_typeof(p_reservations) <> 'array' then
    raise exception 'p_reservations must be a JSON array' using errcode = 'invalid_parameter_value';
  end if;
  for v_item, v_ord in
    select x.e, x.n::integer from jsonb_array_elements(p_reservations) with ordinality as x (e, n)
  loop
    ord := v_ord;
    pms_reservation_id := v_item ->> 'pms_reservation_id';
    reservation_id := null;
    outcome := null;
    error := null;
    -- (v_try is the loop's own integer variable)
    for v_try in 1..2 loop
      begin
        select u.reservation_id, u.outcome into reservation_id, outcome
        from public.upsert_reservation_v1(p_tenant_id, v_item, p_request_id, p_job_id) as u;
        exit;
      exception
        when unique_violation then
          if v_try = 2 then
            outcome := 'failed';
            error := sqlerrm;
          end if;
        when others then
          -- Contention is not the element's fault: fail the call, so the page is tried again.
          if sqlstate in ('40001', '40P01', '55P03') then
            raise;
          end if;
          outcome := 'failed';
          error := sqlerrm;
          exit;
      end;
    end loop;
    return next;
  end loop;
end
$$;

-- A webhook burst (a Mews delivery of 200 events, a night audit) enqueues one reservation job
-- per reservation; only one job per configuration runs at a time. The running reservation job
-- takes up to p_limit other due reservation jobs of its configuration and fetches them all in
-- one go (Mews fetches up to 1,000 ids in one request): they end as cancelled, "merged into"
-- the running job, whose counts include them.
create function public.absorb_reservation_jobs_v1(p_job_id uuid, p_worker text, p_limit integer default 100)
returns table (job_id uuid, pms_reservation_id text, request_id text)
language plpgsql
set search_path = ''
as $$
declare
  v_job public.sync_jobs;
begin
  select * into v_job from public.sync_jobs j
  where j.id = p_job_id and j.status = 'running' and j.lease_owner = p_worker and j.kind = 'reservation';
  if v_job.id is null then
    return;
  end if;
  return query
  with taken as (
    select j.id from public.sync_jobs j
    where j.pms_configuration_id = v_job.pms_configuration_id
      and j.kind = 'reservation' and j.status = 'pending' and j.next_attempt_at <= now()
      and j.pms_reservation_id is distinct from v_job.pms_reservation_id
    order by j.requested_at
    limit greatest(p_limit, 0)
    for update skip locked
  )
  update public.sync_jobs j
  set status = 'cancelled', error = format('merged into sync job %s', v_job.id), finished_at = now()
  from taken
  where j.id = taken.id
  returning j.id, j.pms_reservation_id, j.request_id;
end
$$;

-- Gives a running job back (a worker shutting down mid-sync): pending again without using up
-- an attempt, or, if the same sync was requested again meanwhile, ended in favour of that one.
create function public.release_sync_job_v1(p_job_id uuid, p_worker text) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_job public.sync_jobs;
begin
  select * into v_job from public.sync_jobs j
  where j.id = p_job_id and j.status = 'running' and j.lease_owner = p_worker
  for update;
  if v_job.id is null then
    return false;
  end if;
  if exists (
    select 1 from public.sync_jobs p
    where p.pms_configuration_id = v_job.pms_configuration_id and p.kind = v_job.kind
      and coalesce(p.pms_reservation_id, '') = coalesce(v_job.pms_reservation_id, '')
      and p.status = 'pending'
  ) then
    update public.sync_jobs j
    set status = 'failed', error = 'interrupted by a worker shutdown; the same sync is pending again',
        finished_at = now(), lease_owner = null, lease_expires_at = null
    where j.id = p_job_id;
  else
    update public.sync_jobs j
    set status = 'pending', attempts = greatest(j.attempts - 1, 0), next_attempt_at = now(),
        started_at = null, lease_owner = null, lease_expires_at = null
    where j.id = p_job_id;
  end if;
  return true;
end
$$;

-- Enqueues an incremental sync for every active configuration whose last full or incremental
-- sync was requested sync_interval_minutes ago or more (pg_cron calls it every minute).
-- Skipped: paused configurations (rejected credentials), ones without credentials, and the
-- generic provider without an API (webhook-only). Returns how many were enqueued.
create function public.schedule_pms_syncs_v1() returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_config uuid;
  v_count integer := 0;
begin
  for v_config in
    select c.id
    from public.pms_configurations c
    where c.is_active
      and c.sync_paused_reason is null
      and c.credentials_set_at is not null
      and (c.provider <> 'generic' or c.api_base_url is not null)
      and not exists (
        select 1 from public.sync_jobs j
        where j.pms_configuration_id = c.id
          and j.kind in ('full', 'incremental')
          and j.requested_at > now() - make_interval(mins => c.sync_interval_minutes))
  loop
    perform private.enqueue_sync(v_config, 'incremental', 'schedule', null, null, null);
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;

-- What the sync runner needs about a configuration beyond pms_connection_v1.
create function public.pms_sync_context_v1(p_pms_configuration_id uuid)
returns table (
  is_active boolean, sync_cursor timestamptz, sync_paused_reason text, property_timezones jsonb
)
language sql stable
set search_path = ''
as $$
  select c.is_active, c.sync_cursor, c.sync_paused_reason,
    coalesce(
      (select jsonb_object_agg(p.pms_property_id, p.timezone)
       from public.properties p
       where p.tenant_id = c.tenant_id and p.pms_property_id is not null),
      '{}'::jsonb)
  from public.pms_configurations c
  where c.id = p_pms_configuration_id
$$;

revoke all on function public.finish_pms_sync_v1(uuid, text, boolean, jsonb, text, text, timestamptz)
  from public, anon, authenticated;
revoke all on function public.upsert_reservations_v1(uuid, jsonb, text, uuid) from public, anon, authenticated;
revoke all on function public.absorb_reservation_jobs_v1(uuid, text, integer) from public, anon, authenticated;
revoke all on function public.release_sync_job_v1(uuid, text) from public, anon, authenticated;
revoke all on function public.schedule_pms_syncs_v1() from public, anon, authenticated;
revoke all on function public.pms_sync_context_v1(uuid) from public, anon, authenticated;
grant execute on function public.finish_pms_sync_v1(uuid, text, boolean, jsonb, text, text, timestamptz)
  to service_role;
grant execute on function public.upsert_reservations_v1(uuid, jsonb, text, uuid) to service_role;
grant execute on function public.absorb_reservation_jobs_v1(uuid, text, integer) to service_role;
grant execute on function public.release_sync_job_v1(uuid, text) to service_role;
grant execute on function public.schedule_pms_syncs_v1() to service_role;
grant execute on function public.pms_sync_context_v1(uuid) to service_role;

-- ============================================================================================
-- Schedule
-- ============================================================================================
-- Once a minute; each configuration is due every sync_interval_minutes (schedule_pms_syncs_v1).
-- cron.schedule with a job name replaces an existing job of that name, so this is re-runnable.
select cron.schedule('pms-incremental-syncs', '* * * * *', 'select public.schedule_pms_syncs_v1()');
