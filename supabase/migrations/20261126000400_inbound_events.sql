-- The inbound event queue: every accepted webhook (PMS or WAHA) is stored here once, before the
-- sender gets its 2xx, and is then worked off by the worker under a lease.
--
--   pending --claim--> processing --complete--> succeeded | ignored
--      ^                   |  \--fail(retryable, attempts left)--> pending (backoff)
--      |                   \----fail(permanent or last attempt)--> dead
--      +------ replay (admin) ------------------------------------- dead
--   processing whose lease expired --reclaim--> pending, or dead at max attempts

-- ============================================================================================
-- Types
-- ============================================================================================
create type public.event_source as enum ('pms', 'waha', 'system');
create type public.inbound_event_status as enum ('pending', 'processing', 'succeeded', 'ignored', 'dead');

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.inbound_events (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  source public.event_source not null,
  provider text not null check (length(provider) between 1 and 50),
  event_id text not null check (length(event_id) between 1 and 300),
  event_type text not null check (length(event_type) between 1 and 200),
  payload jsonb not null,
  request_id text,
  status public.inbound_event_status not null default 'pending',
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 10 check (max_attempts > 0),
  next_attempt_at timestamptz not null default now(),
  lease_owner text,
  lease_expires_at timestamptz,
  last_error text,
  replay_count integer not null default 0,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (tenant_id, source, event_id),
  check ((status = 'processing') = (lease_owner is not null and lease_expires_at is not null))
) with (fillfactor = 80);

-- Claimable rows only: the index stays small however long the history grows.
create index inbound_events_claimable_idx on public.inbound_events (next_attempt_at, id)
where status = 'pending';
create index inbound_events_leased_idx on public.inbound_events (lease_expires_at)
where status = 'processing';
create index inbound_events_tenant_received_idx on public.inbound_events (tenant_id, received_at desc);
create index inbound_events_request_idx on public.inbound_events (request_id) where request_id is not null;
create index inbound_events_dead_idx on public.inbound_events (tenant_id, updated_at desc)
where status = 'dead';

-- ============================================================================================
-- State machine
-- ============================================================================================
create function private.check_inbound_event_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status and not (
    (old.status = 'pending' and new.status in ('processing', 'dead'))
    or (old.status = 'processing' and new.status in ('pending', 'succeeded', 'ignored', 'dead'))
    or (old.status = 'dead' and new.status = 'pending')
  ) then
    raise exception 'inbound event %: % -> % is not allowed', old.id, old.status, new.status
      using errcode = 'check_violation';
  end if;
  new.updated_at := now();
  return new;
end
$$;

create trigger inbound_events_transition before update on public.inbound_events
for each row execute function private.check_inbound_event_transition();

create trigger inbound_events_forbid_tenant_change before update on public.inbound_events
for each row execute function private.forbid_tenant_change();

-- One notification per statement (not per row): a NOTIFY per row serialises commits.
create function private.notify_inbound_events() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('inbound_events', '');
  return null;
end
$$;

create trigger inbound_events_notify after insert on public.inbound_events
for each statement execute function private.notify_inbound_events();

-- ============================================================================================
-- Retry policy
-- ============================================================================================

-- Exponential backoff with equal jitter: half of the capped exponential delay is fixed and
-- half random, so retries of many rows spread out instead of returning together.
create function private.retry_delay(p_attempt integer, p_base interval, p_cap interval)
returns interval
language sql volatile
set search_path = ''
as $$
  select least(p_cap, p_base * power(2, least(greatest(p_attempt, 1) - 1, 30)))
    * (0.5 + random() * 0.5)
$$;

-- ============================================================================================
-- Service API (the webhook functions and the worker)
-- ============================================================================================

-- Stores events idempotently: an event already stored for (tenant, source, event_id) is left as
-- it is and reported as a duplicate. p_events: [{event_id, event_type, payload}, ...].
create function public.ingest_inbound_events_v1(
  p_tenant_id uuid,
  p_source public.event_source,
  p_provider text,
  p_events jsonb,
  p_request_id text default null
) returns table (event_id text, id bigint, duplicate boolean)
language plpgsql
set search_path = ''
as $$
begin
  if jsonb_typeof(p_events) <> 'array' then
    raise exception 'p_events must be a JSON array' using errcode = 'invalid_parameter_value';
  end if;
  return query
  with incoming as (
    select distinct on (e ->> 'event_id')
      e ->> 'event_id' as event_id, e ->> 'event_type' as event_type, e -> 'payload' as payload,
      ord
    from jsonb_array_elements(p_events) with ordinality as x (e, ord)
    order by e ->> 'event_id', ord
  ),
  inserted as (
    insert into public.inbound_events as ie (tenant_id, source, provider, event_id, event_type, payload, request_id)
    select p_tenant_id, p_source, p_provider, i.event_id, i.event_type, i.payload, p_request_id
    from incoming i
    order by i.ord
    on conflict on constraint inbound_events_tenant_id_source_event_id_key do nothing
    returning ie.event_id, ie.id
  )
  select i.event_id, coalesce(n.id, e.id), n.id is null
  from incoming i
  left join inserted n on n.event_id = i.event_id
  left join public.inbound_events e
    on n.id is null and e.tenant_id = p_tenant_id and e.source = p_source and e.event_id = i.event_id
  order by i.ord;
end
$$;

-- Puts rows whose worker died (lease expired) back in the queue, or dead-letters them when
-- that was their last attempt. Returns how many rows it touched.
create function public.reclaim_inbound_events_v1() returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  with expired as (
    select e.id from public.inbound_events e
    where e.status = 'processing' and e.lease_expires_at < now()
    for update skip locked
  )
  update public.inbound_events e
  set status = case when e.attempts >= e.max_attempts then 'dead' else 'pending' end::public.inbound_event_status,
      next_attempt_at = now(),
      last_error = format('lease of %s expired (attempt %s of %s)', e.lease_owner, e.attempts, e.max_attempts),
      lease_owner = null,
      lease_expires_at = null,
      processed_at = case when e.attempts >= e.max_attempts then now() end
  from expired
  where e.id = expired.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Claims up to p_limit due events for p_worker under a lease, oldest first.
create function public.claim_inbound_events_v1(
  p_worker text,
  p_limit integer default 50,
  p_lease interval default '2 minutes'
) returns setof public.inbound_events
language plpgsql
set search_path = ''
as $$
begin
  perform public.reclaim_inbound_events_v1();
  return query
  with due as (
    select e.id from public.inbound_events e
    where e.status = 'pending' and e.next_attempt_at <= now()
    order by e.next_attempt_at, e.id
    limit p_limit
    for update skip locked
  )
  update public.inbound_events e
  set status = 'processing',
      attempts = e.attempts + 1,
      lease_owner = p_worker,
      lease_expires_at = now() + p_lease
  from due
  where e.id = due.id
  returning e.*;
end
$$;

-- Finishes claimed events. Only the lease holder can: a worker that lost its lease (and whose
-- rows another worker now holds) changes nothing. Returns the ids it finished.
create function public.complete_inbound_events_v1(
  p_ids bigint[],
  p_worker text,
  p_status public.inbound_event_status default 'succeeded'
) returns setof bigint
language plpgsql
set search_path = ''
as $$
begin
  if p_status not in ('succeeded', 'ignored') then
    raise exception 'complete takes succeeded or ignored, not %', p_status using errcode = 'invalid_parameter_value';
  end if;
  return query
  update public.inbound_events e
  set status = p_status, lease_owner = null, lease_expires_at = null, processed_at = now(),
      last_error = null
  where e.id = any (p_ids) and e.status = 'processing' and e.lease_owner = p_worker
  returning e.id;
end
$$;

-- Records a failure. Retryable failures come back after a backoff until max_attempts; the
-- last attempt, or a permanent failure, dead-letters the event with its error.
create function public.fail_inbound_event_v1(
  p_id bigint,
  p_worker text,
  p_error text,
  p_retryable boolean default true,
  p_base_delay interval default '5 seconds',
  p_max_delay interval default '15 minutes'
) returns public.inbound_event_status
language plpgsql
set search_path = ''
as $$
declare
  v_status public.inbound_event_status;
begin
  update public.inbound_events e
  set status = case
        when not p_retryable or e.attempts >= e.max_attempts then 'dead'
        else 'pending'
      end::public.inbound_event_status,
      next_attempt_at = now() + private.retry_delay(e.attempts, p_base_delay, p_max_delay),
      last_error = left(coalesce(p_error, 'unknown error'), 4000),
      lease_owner = null,
      lease_expires_at = null,
      processed_at = case when not p_retryable or e.attempts >= e.max_attempts then now() end
  where e.id = p_id and e.status = 'processing' and e.lease_owner = p_worker
  returning e.status into v_status;
  return v_status;
end
$$;

-- Hands claimed events back untouched (shutdown): the attempt does not count.
create function public.release_inbound_events_v1(p_ids bigint[], p_worker text)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.inbound_events e
  set status = 'pending', attempts = greatest(e.attempts - 1, 0), next_attempt_at = now(),
      lease_owner = null, lease_expires_at = null
  where e.id = any (p_ids) and e.status = 'processing' and e.lease_owner = p_worker;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function public.ingest_inbound_events_v1(uuid, public.event_source, text, jsonb, text) from public, anon, authenticated;
revoke all on function public.reclaim_inbound_events_v1() from public, anon, authenticated;
revoke all on function public.claim_inbound_events_v1(text, integer, interval) from public, anon, authenticated;
revoke all on function public.complete_inbound_events_v1(bigint[], text, public.inbound_event_status) from public, anon, authenticated;
revoke all on function public.fail_inbound_event_v1(bigint, text, text, boolean, interval, interval) from public, anon, authenticated;
revoke all on function public.release_inbound_events_v1(bigint[], text) from public, anon, authenticated;
grant execute on function public.ingest_inbound_events_v1(uuid, public.event_source, text, jsonb, text) to service_role;
grant execute on function public.reclaim_inbound_events_v1() to service_role;
grant execute on function public.claim_inbound_events_v1(text, integer, interval) to service_role;
grant execute on function public.complete_inbound_events_v1(bigint[], text, public.inbound_event_status) to service_role;
grant execute on function public.fail_inbound_event_v1(bigint, text, text, boolean, interval, interval) to service_role;
grant execute on function public.release_inbound_events_v1(bigint[], text) to service_role;

-- ============================================================================================
-- Public API (tenant owners and admins, for their own tenant)
-- ============================================================================================

-- Brings a dead-lettered event back into the queue once. Returns false when the event is not
-- dead (already replayed, or never failed), so a double click replays it once.
create function public.replay_inbound_event(p_event_id bigint) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select e.tenant_id into v_tenant from public.inbound_events e where e.id = p_event_id;
  if v_tenant is null then
    raise exception 'inbound event % not found', p_event_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_tenant, '{owner,admin}');
  update public.inbound_events e
  set status = 'pending', attempts = 0, next_attempt_at = now(), processed_at = null,
      replay_count = e.replay_count + 1
  where e.id = p_event_id and e.status = 'dead';
  return found;
end
$$;

revoke all on function public.replay_inbound_event(bigint) from public, anon;
grant execute on function public.replay_inbound_event(bigint) to authenticated, service_role;

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.inbound_events enable row level security;

revoke all on public.inbound_events from anon, authenticated;
grant select on public.inbound_events to authenticated;
grant all on public.inbound_events to service_role;

create policy "Inbound events are visible to members of their tenant"
on public.inbound_events for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

alter publication supabase_realtime add table public.inbound_events;
