-- Operations, part 1: the `ops` schema (on-call only) and what it records as the system runs:
-- state changes per request (for `ops trace`), PMS outages, denied admin calls, failed password
-- sign-ins, and counter samples that turn cumulative counters into rates.
--
-- `ops` is never exposed through the API. The dashboard reads tenant figures from `metrics`
-- (next migration); everything here is for the back end: the worker, pg_cron and the ops CLI.

-- ============================================================================================
-- Schema
-- ============================================================================================
create schema if not exists ops;
revoke all on schema ops from public;
-- authenticated needs usage only to read its tenant's alerts through metrics.alerts (RLS).
grant usage on schema ops to service_role, authenticated;

-- ============================================================================================
-- Settings (one row; service role only)
-- ============================================================================================
create table ops.settings (
  id boolean primary key default true check (id),
  -- Where alert notifications go (opened and resolved), e.g. PagerDuty/Opsgenie/Slack relay.
  oncall_webhook_url text check (oncall_webhook_url ~ '^https?://'),
  -- Optional Standard Webhooks secret (whsec_...): notifications are then signed.
  oncall_webhook_secret text check (oncall_webhook_secret ~ '^whsec_[A-Za-z0-9+/]+={0,2}$'),
  -- Supabase Auth health endpoint, probed every minute through pg_net, e.g.
  -- https://<ref>.supabase.co/auth/v1/health with headers {"apikey": "<anon key>"}.
  auth_health_url text check (auth_health_url ~ '^https?://'),
  auth_health_headers jsonb not null default '{}'::jsonb check (jsonb_typeof(auth_health_headers) = 'object'),
  -- State changes of rows that carry a request id are kept for `ops trace`; one insert per
  -- statement that changes states. Off saves that write on the hottest paths.
  record_state_history boolean not null default true,
  state_history_retention interval not null default '30 days',
  updated_at timestamptz not null default now()
);

insert into ops.settings default values;

create trigger settings_set_updated_at before update on ops.settings
for each row execute function private.set_updated_at();

-- ============================================================================================
-- State history (what `ops trace <requestId>` shows in order)
-- ============================================================================================
-- Only rows that carry a request id are recorded, and only what their own columns cannot tell
-- later: state changes, re-planned send times, and the creation of reservations and messages
-- (whose request id a later change may overwrite). An inbound event or sync job keeps its
-- request id and creation time for good, so their inserts are not copied here.
create table ops.state_history (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  request_id text not null,
  tenant_id uuid not null,
  entity text not null check (entity in ('inbound_event', 'reservation', 'message', 'sync_job')),
  entity_id text not null,
  from_status text,
  to_status text not null,
  detail jsonb
);

create index state_history_request_idx on ops.state_history (request_id, id);
-- Append-only in time order: a BRIN index makes the retention purge cheap at any size.
create index state_history_at_idx on ops.state_history using brin (at);

create function ops.history_enabled() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((select s.record_state_history from ops.settings s), true)
$$;

create function ops.record_inbound_event_changes() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if ops.history_enabled() then
    insert into ops.state_history (request_id, tenant_id, entity, entity_id, from_status, to_status, detail)
    select n.request_id, n.tenant_id, 'inbound_event', n.id::text, o.status::text, n.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'attempts', n.attempts, 'event_type', n.event_type, 'lease_owner', n.lease_owner,
             'error', case when n.status in ('pending', 'dead') then n.last_error end))
    from new_rows n
    join old_rows o on o.id = n.id
    where n.request_id is not null and n.status is distinct from o.status;
  end if;
  return null;
end
$$;

create function ops.record_message_changes() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if ops.history_enabled() then
    insert into ops.state_history (request_id, tenant_id, entity, entity_id, from_status, to_status, detail)
    select n.request_id, n.tenant_id, 'message', n.id::text, o.status::text, n.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'attempts', n.attempts, 'template', n.template_key, 'lease_owner', n.lease_owner,
             'waha_message_id', case when n.status = 'sent' then n.waha_message_id end,
             'scheduled_for', case when n.status in ('scheduled', 'queued') then n.scheduled_for end,
             'error', case when n.status in ('failed', 'dead', 'skipped', 'cancelled', 'queued') then n.last_error end))
    from new_rows n
    join old_rows o on o.id = n.id
    where n.request_id is not null
      and (n.status is distinct from o.status
           or n.scheduled_for is distinct from o.scheduled_for
           or n.request_id is distinct from o.request_id);
  end if;
  return null;
end
$$;

create function ops.record_message_inserts() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if ops.history_enabled() then
    insert into ops.state_history (request_id, tenant_id, entity, entity_id, from_status, to_status, detail)
    select n.request_id, n.tenant_id, 'message', n.id::text, null, n.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'template', n.template_key, 'scheduled_for', n.scheduled_for,
             'reservation_id', n.reservation_id, 'job_id', n.job_id, 'error', n.last_error))
    from new_rows n
    where n.request_id is not null;
  end if;
  return null;
end
$$;

create function ops.record_sync_job_changes() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if ops.history_enabled() then
    insert into ops.state_history (request_id, tenant_id, entity, entity_id, from_status, to_status, detail)
    select n.request_id, n.tenant_id, 'sync_job', n.id::text, o.status::text, n.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'kind', n.kind, 'attempts', n.attempts, 'lease_owner', n.lease_owner,
             'pages', case when n.finished_at is not null then n.pages end,
             'created', case when n.finished_at is not null then n.created_count end,
             'updated', case when n.finished_at is not null then n.updated_count end,
             'failed', case when n.finished_at is not null then n.failed_count end,
             'error', n.error))
    from new_rows n
    join old_rows o on o.id = n.id
    where n.request_id is not null and n.status is distinct from o.status;
  end if;
  return null;
end
$$;

-- A reservation has no queue state; what matters is each new PMS version applied to it. A
-- change made by a sync job without a request of its own is not attributed to the old request.
create function ops.record_reservation_changes() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if ops.history_enabled() then
    insert into ops.state_history (request_id, tenant_id, entity, entity_id, from_status, to_status, detail)
    select n.last_request_id, n.tenant_id, 'reservation', n.id::text, o.status::text, n.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'pms_reservation_id', n.pms_reservation_id, 'pms_updated_at', n.pms_updated_at,
             'arrival_date', n.arrival_date, 'departure_date', n.departure_date, 'job_id', n.last_job_id))
    from new_rows n
    join old_rows o on o.id = n.id
    where n.last_request_id is not null
      and (n.pms_updated_at is distinct from o.pms_updated_at or n.status is distinct from o.status)
      and not (n.last_request_id is not distinct from o.last_request_id
               and n.last_job_id is distinct from o.last_job_id);
  end if;
  return null;
end
$$;

create function ops.record_reservation_inserts() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if ops.history_enabled() then
    insert into ops.state_history (request_id, tenant_id, entity, entity_id, from_status, to_status, detail)
    select n.last_request_id, n.tenant_id, 'reservation', n.id::text, null, n.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'pms_reservation_id', n.pms_reservation_id, 'pms_updated_at', n.pms_updated_at,
             'arrival_date', n.arrival_date, 'departure_date', n.departure_date, 'job_id', n.last_job_id))
    from new_rows n
    where n.last_request_id is not null;
  end if;
  return null;
end
$$;

create trigger inbound_events_record_changes after update on public.inbound_events
referencing old table as old_rows new table as new_rows
for each statement execute function ops.record_inbound_event_changes();

create trigger message_logs_record_changes after update on public.message_logs
referencing old table as old_rows new table as new_rows
for each statement execute function ops.record_message_changes();

create trigger sync_jobs_record_changes after update on public.sync_jobs
referencing old table as old_rows new table as new_rows
for each statement execute function ops.record_sync_job_changes();

create trigger reservations_record_changes after update on public.reservations
referencing old table as old_rows new table as new_rows
for each statement execute function ops.record_reservation_changes();

create trigger message_logs_record_inserts after insert on public.message_logs
referencing new table as new_rows
for each statement execute function ops.record_message_inserts();

create trigger reservations_record_inserts after insert on public.reservations
referencing new table as new_rows
for each statement execute function ops.record_reservation_inserts();

-- Lookups by request id for `ops trace` (inbound_events and message_logs have theirs).
create index reservations_last_request_idx on public.reservations (last_request_id)
where last_request_id is not null;
create index sync_jobs_request_idx on public.sync_jobs (request_id) where request_id is not null;

-- Window scans of the metrics (all tenants at once, every minute): without these each
-- evaluation would read the whole history of the two busiest tables.
create index inbound_events_received_idx on public.inbound_events (received_at);
create index message_logs_sent_at_idx on public.message_logs (sent_at) where sent_at is not null;
create index message_logs_failed_updated_idx on public.message_logs (updated_at)
where status in ('failed', 'dead');
create index sync_jobs_finished_idx on public.sync_jobs (finished_at) where finished_at is not null;

-- ============================================================================================
-- PMS outages: since when a configuration has been failing
-- ============================================================================================
create table ops.pms_outages (
  pms_configuration_id uuid primary key references public.pms_configurations (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  failing_since timestamptz not null default now()
);

-- Security definer: tenant admins insert configurations, and may not write ops tables.
create function ops.track_pms_outage() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.health = 'failing' and new.is_active then
    insert into ops.pms_outages (pms_configuration_id, tenant_id)
    values (new.id, new.tenant_id)
    on conflict (pms_configuration_id) do nothing;
  elsif tg_op = 'UPDATE' then
    delete from ops.pms_outages o where o.pms_configuration_id = new.id;
  end if;
  return null;
end
$$;

create trigger pms_configurations_track_outage after insert or update of health, is_active
on public.pms_configurations
for each row execute function ops.track_pms_outage();

insert into ops.pms_outages (pms_configuration_id, tenant_id, failing_since)
select c.id, c.tenant_id, coalesce(c.last_success_at, c.last_error_at, c.updated_at)
from public.pms_configurations c
where c.health = 'failing' and c.is_active;

-- ============================================================================================
-- Denied admin calls ("RLS policy violations" the database can see)
-- ============================================================================================
-- private.assert_tenant_role raises, and the raise rolls back every row the transaction wrote,
-- a row about the denial included. A sequence step is not rolled back: it counts denials
-- across aborts, and ops.evaluate_alerts samples it each minute into a rate. Who was denied and
-- for which tenant goes to the Postgres log (RAISE LOG; on Supabase: Logs Explorer).
-- Not captured: plain table writes refused by RLS policies (PostgREST answers 403/404 and the
-- database records nothing); they appear only in the API and Postgres logs. A crash may advance
-- a sequence by up to 32 (its WAL pre-allocation), showing as a spike once.
create sequence ops.denied_calls_seq;

create or replace function private.assert_tenant_role(p_tenant_id uuid, p_roles public.member_role[])
returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if private.is_service_caller() then
    return;
  end if;
  if (select auth.uid()) is null
    or not exists (
      select 1 from public.tenant_members m
      where m.tenant_id = p_tenant_id
        and m.user_id = (select auth.uid())
        and m.role = any (p_roles)
    )
  then
    perform nextval('ops.denied_calls_seq');
    raise log 'tenant access denied: user % needs one of % in tenant %',
      coalesce((select auth.uid())::text, 'anonymous'), p_roles, p_tenant_id;
    raise exception 'permission denied for tenant %', p_tenant_id
      using errcode = 'insufficient_privilege';
  end if;
end
$$;

-- ============================================================================================
-- Failed password sign-ins (Supabase Auth's Password Verification Attempt hook)
-- ============================================================================================
-- Supabase Auth writes successful logins to auth.audit_log_entries but never a failed one. Its
-- Password Verification Attempt hook (Team and Enterprise plans; enable it in the dashboard
-- under Auth > Hooks with this function) reports every attempt on an existing account.
-- Attempts for unknown e-mail addresses never reach the hook and are not counted.
create table ops.password_attempts (
  id bigint generated always as identity primary key,
  user_id uuid,
  valid boolean not null,
  at timestamptz not null default now()
);

create index password_attempts_at_idx on ops.password_attempts using brin (at);

create function public.hook_password_verification_attempt(event jsonb) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into ops.password_attempts (user_id, valid)
  values ((event ->> 'user_id')::uuid, coalesce((event ->> 'valid')::boolean, false));
  -- Only counting: the decision stays Supabase Auth's own.
  return jsonb_build_object('decision', 'continue');
exception
  -- A malformed event must never block a sign-in.
  when invalid_text_representation then
    return jsonb_build_object('decision', 'continue');
end
$$;

revoke all on function public.hook_password_verification_attempt(jsonb) from public, anon, authenticated;
grant execute on function public.hook_password_verification_attempt(jsonb) to service_role;
-- supabase_auth_admin (the role Supabase Auth runs hooks as) exists on Supabase projects only.
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    grant execute on function public.hook_password_verification_attempt(jsonb) to supabase_auth_admin;
  end if;
end
$$;

-- ============================================================================================
-- Counter samples (cumulative counters -> figures per window)
-- ============================================================================================
-- Also the intake for figures only an outside system sees (`ops.record_sample`), such as
-- Supabase Auth's refresh-token failures, which it logs but never writes to the database.
create table ops.samples (
  name text not null check (name ~ '^[a-z][a-z0-9_.]*$'),
  taken_at timestamptz not null default now(),
  value numeric not null,
  detail jsonb,
  primary key (name, taken_at)
);

create function ops.record_sample(p_name text, p_value numeric, p_detail jsonb default null)
returns void
language sql
set search_path = ''
as $$
  insert into ops.samples (name, value, detail) values (p_name, p_value, p_detail)
  on conflict (name, taken_at) do update set value = excluded.value, detail = excluded.detail
$$;

-- The increase of a cumulative counter over the window (resets, e.g. a server restart for
-- pg_stat_database, count from zero).
create function ops.counter_increase(p_name text, p_since timestamptz) returns numeric
language sql stable
set search_path = ''
as $$
  select coalesce(sum(greatest(d.delta, 0)), 0)
  from (
    select case when s.value < lag(s.value) over w then s.value
                else s.value - lag(s.value) over w end as delta,
           s.taken_at
    from ops.samples s
    where s.name = p_name
      and s.taken_at >= coalesce(
        (select max(e.taken_at) from ops.samples e where e.name = p_name and e.taken_at <= p_since),
        p_since)
    window w as (order by s.taken_at)
  ) d
  where d.taken_at > p_since and d.delta is not null
$$;

-- ============================================================================================
-- Privileges and RLS: nothing here is for signed-in users
-- ============================================================================================
alter table ops.settings enable row level security;
alter table ops.state_history enable row level security;
alter table ops.pms_outages enable row level security;
alter table ops.password_attempts enable row level security;
alter table ops.samples enable row level security;

revoke all on all tables in schema ops from public, anon, authenticated;
revoke all on all sequences in schema ops from public, anon, authenticated;
revoke all on all functions in schema ops from public, anon, authenticated;
grant all on all tables in schema ops to service_role;
grant usage, select on all sequences in schema ops to service_role;
grant execute on all functions in schema ops to service_role;
