-- A dead worker's inbound events come back in seconds too, not after their lease.
--
-- 20261202001100 took back a dead worker's messages once its liveness lock had been free for the
-- grace, but only probed workers with messages out: the PMS and WAHA events it had claimed still
-- waited out their lease (two minutes by default), and with them the reservation changes they
-- carry. The probe is now one helper for both queues (private.dead_workers), and
-- reclaim_dead_workers_v1, which the worker's liveness probe calls, takes back both. Redoing an
-- event is safe: every handler is idempotent (an upsert never lets an older PMS version win).

create index inbound_events_lease_owner_idx on public.inbound_events (lease_owner) where status = 'processing';

-- Workers other than p_self with work out whose liveness lock has been free for p_grace (seen
-- free twice, that far apart). Notes the first sighting; the try-lock is transaction-scoped, so
-- it never blocks and is let go at commit.
create function private.dead_workers(p_self text, p_grace interval) returns text[]
language plpgsql
set search_path = ''
as $$
declare
  v_dead text[];
begin
  with probed as materialized (
    select l.worker_id, l.suspected_dead_at
    from public.worker_liveness l
    where l.worker_id is distinct from p_self
      and (exists (select 1 from public.message_logs m where m.status = 'sending' and m.lease_owner = l.worker_id)
           or exists (select 1 from public.inbound_events e
                      where e.status = 'processing' and e.lease_owner = l.worker_id))
      and pg_catalog.pg_try_advisory_xact_lock(20261202, l.lock_key)
  ),
  suspected as (
    update public.worker_liveness l set suspected_dead_at = now()
    from probed p
    where l.worker_id = p.worker_id and p.suspected_dead_at is null
  )
  select coalesce(array_agg(p.worker_id) filter (where p.suspected_dead_at <= now() - p_grace), '{}')
  into v_dead
  from probed p;
  return v_dead;
end
$$;

revoke all on function private.dead_workers(text, interval) from public;

create function private.take_back_events(p_worker text) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.inbound_events e
  set status = case when e.attempts >= e.max_attempts then 'dead' else 'pending' end::public.inbound_event_status,
      next_attempt_at = now(),
      last_error = format('worker %s died (attempt %s of %s)', p_worker, e.attempts, e.max_attempts),
      lease_owner = null,
      lease_expires_at = null,
      processed_at = case when e.attempts >= e.max_attempts then now() end
  from (
    select x.id from public.inbound_events x
    where x.status = 'processing' and x.lease_owner = p_worker
    order by x.id
    for update skip locked
  ) t
  where e.id = t.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function private.take_back_events(text) from public;

-- As in 20261202001100, with the probe from the helper.
create or replace function public.reclaim_messages_v2(p_self text, p_grace interval default '1.5 seconds')
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer := 0;
  v_expired integer;
  v_worker text;
begin
  foreach v_worker in array private.dead_workers(p_self, p_grace) loop
    v_count := v_count + private.take_back_sends(v_worker, format('worker %s died mid-send', v_worker));
  end loop;

  with expired as (
    select m.id from public.message_logs m
    where m.status = 'sending' and m.lease_expires_at < now()
    order by m.id
    for update skip locked
  )
  update public.message_logs m
  set status = case when m.attempts >= m.max_attempts then 'dead' else 'queued' end::public.message_status,
      send_uncertain = true,
      last_error = format('lease of %s expired mid-send (attempt %s of %s)', m.lease_owner, m.attempts, m.max_attempts),
      lease_owner = null,
      lease_expires_at = null
  from expired
  where m.id = expired.id;
  get diagnostics v_expired = row_count;
  return v_count + v_expired;
end
$$;

-- The liveness probe: both queues of every dead worker (and messages whose lease ran out).
create function public.reclaim_dead_workers_v1(p_self text, p_grace interval default '1.5 seconds')
returns table (messages integer, events integer)
language plpgsql
set search_path = ''
as $$
declare
  v_messages integer := 0;
  v_events integer := 0;
  v_worker text;
begin
  foreach v_worker in array private.dead_workers(p_self, p_grace) loop
    v_messages := v_messages + private.take_back_sends(v_worker, format('worker %s died mid-send', v_worker));
    v_events := v_events + private.take_back_events(v_worker);
  end loop;
  -- Leases that ran out (a worker that lost track, or one without a liveness lock).
  v_messages := v_messages + public.reclaim_messages_v2(p_self, p_grace);
  return query select v_messages, v_events;
end
$$;

revoke all on function public.reclaim_dead_workers_v1(text, interval) from public, anon, authenticated;
grant execute on function public.reclaim_dead_workers_v1(text, interval) to service_role;
