-- Tell a dead worker from a slow one in seconds, and keep a guest's messages in order and
-- unduplicated across the crash.
--
-- Until now a claimed message came back only when its lease ran out (two minutes by default):
-- every session the dead worker held sent nothing for that long. Now each worker process holds a
-- session-level advisory lock on a connection of its own (register_worker_v1). The lock dies
-- with that connection, so the database itself sees a SIGKILLed worker at once; a worker that is
-- merely slow (a long GC pause, a saturated CPU) keeps its connection and its lock, and keeps its
-- claims. reclaim_messages_v2 takes back the sends of a worker whose lock has been free for
-- p_grace (seen free twice, that far apart), which leaves a worker whose connection was cut (a
-- restarted database, pg_terminate_backend) time to reconnect and take its lock again.
--
-- A message taken back this way, or at the end of its lease, may have reached WAHA before the
-- worker died: it is marked send_uncertain, and the next worker asks WAHA before sending it
-- again. It also keeps its next_attempt_at (reclaim_messages_v1 set it to now(), which put it
-- behind the rest of its session's backlog): the claim takes a session's messages in
-- (next_attempt_at, id) order, so the interrupted message is the next one its session sends.
-- It goes back to `queued`, which frees the session once the previous gap has ended.
--
-- claim_messages_v5 is claim_messages_v4 with this reclaim, plus what the sender needs to settle
-- an uncertain message. v4 and reclaim_messages_v1 stay for workers of the previous version
-- during a deploy.

alter table public.message_logs
  add column send_uncertain boolean not null default false;

comment on column public.message_logs.send_uncertain is
  'an earlier attempt was cut off mid-send (worker died, lease ran out): WAHA may have it already';

create index message_logs_lease_owner_idx on public.message_logs (lease_owner) where status = 'sending';

create table public.worker_liveness (
  worker_id text primary key check (length(worker_id) between 1 and 200),
  -- With the class 20261202: the advisory lock (class, lock_key) the live process holds.
  lock_key integer generated always as identity unique,
  -- The process now using this worker id: a new one means the previous one is gone.
  incarnation uuid not null,
  registered_at timestamptz not null default now(),
  -- When another worker first found the lock free (null while it is held).
  suspected_dead_at timestamptz
);

comment on table public.worker_liveness is
  'worker processes and the advisory lock each holds while alive (register_worker_v1)';

alter table public.worker_liveness enable row level security;
revoke all on public.worker_liveness from anon, authenticated;
grant all on public.worker_liveness to service_role;

-- Takes back sends of `p_worker` that are still out: they may have reached WAHA.
create function private.take_back_sends(p_worker text, p_reason text) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.message_logs m
  set status = case when m.attempts >= m.max_attempts then 'dead' else 'queued' end::public.message_status,
      send_uncertain = true,
      last_error = format('%s (attempt %s of %s)', p_reason, m.attempts, m.max_attempts),
      lease_owner = null,
      lease_expires_at = null
  from (
    select x.id from public.message_logs x
    where x.status = 'sending' and x.lease_owner = p_worker
    order by x.id
    for update skip locked
  ) t
  where m.id = t.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function private.take_back_sends(text, text) from public;

-- Called by a worker on its own long-lived connection at start and after each reconnect. True
-- when it now holds its liveness lock; false when another session still holds it (the previous
-- connection's backend not gone yet, or a second process configured with the same id): the
-- caller tries again shortly.
create function public.register_worker_v1(p_worker text, p_incarnation uuid) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_row public.worker_liveness;
begin
  insert into public.worker_liveness (worker_id, incarnation) values (p_worker, p_incarnation)
  on conflict (worker_id) do nothing;
  select * into v_row from public.worker_liveness l where l.worker_id = p_worker for update;
  if not pg_catalog.pg_try_advisory_lock(20261202, v_row.lock_key) then
    return false;
  end if;
  if v_row.incarnation <> p_incarnation then
    -- A restarted process under the same id: what the previous one had out is in doubt.
    perform private.take_back_sends(p_worker, format('worker %s restarted mid-send', p_worker));
  end if;
  update public.worker_liveness l
  set incarnation = p_incarnation, registered_at = now(), suspected_dead_at = null
  where l.worker_id = p_worker;
  return true;
end
$$;

-- A clean stop: what is still out is taken back (in doubt), the row and the lock go.
create function public.deregister_worker_v1(p_worker text, p_incarnation uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_row public.worker_liveness;
  v_count integer := 0;
begin
  select * into v_row from public.worker_liveness l
  where l.worker_id = p_worker and l.incarnation = p_incarnation
  for update;
  if v_row.worker_id is null then
    return 0;
  end if;
  v_count := private.take_back_sends(p_worker, format('worker %s stopped mid-send', p_worker));
  delete from public.worker_liveness l where l.worker_id = p_worker;
  perform pg_catalog.pg_advisory_unlock(20261202, v_row.lock_key);
  return v_count;
end
$$;

-- Sends whose worker died (liveness lock free for p_grace) or whose lease ran out come back,
-- in doubt and in their place in the session's order. `p_self` is the caller, never suspected.
create function public.reclaim_messages_v2(p_self text, p_grace interval default '1.5 seconds')
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_dead text[];
  v_count integer := 0;
  v_expired integer;
  v_worker text;
begin
  -- Probed only while they have sends out. The try-lock is transaction-scoped: it never blocks,
  -- and it is let go at commit, so a worker coming back can take its lock again.
  with probed as materialized (
    select l.worker_id, l.suspected_dead_at
    from public.worker_liveness l
    where l.worker_id is distinct from p_self
      and exists (
        select 1 from public.message_logs m where m.status = 'sending' and m.lease_owner = l.worker_id)
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

  foreach v_worker in array v_dead loop
    v_count := v_count + private.take_back_sends(v_worker, format('worker %s died mid-send', v_worker));
  end loop;

  -- Whatever the liveness says, a lease that ran out ends the claim (a worker that lost track).
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

-- Of `p_ids`, those still leased to `p_worker` (a worker that lost its liveness connection asks
-- before sending what it had claimed).
create function public.leased_messages_v1(p_ids bigint[], p_worker text) returns setof bigint
language sql
stable
set search_path = ''
as $$
  select m.id from public.message_logs m
  where m.id = any (p_ids) and m.status = 'sending' and m.lease_owner = p_worker
$$;

create function public.claim_messages_v5(
  p_worker text,
  p_limit integer default 500,
  p_lease interval default '2 minutes',
  p_ahead interval default '0',
  p_grace interval default '1.5 seconds'
) returns table (
  id bigint,
  tenant_id uuid,
  reservation_id uuid,
  request_id text,
  job_id uuid,
  attempts integer,
  max_attempts integer,
  send_in_ms double precision,
  -- An earlier attempt may have reached WAHA: ask WAHA before sending it again.
  send_uncertain boolean,
  -- No attempt can be older than the row (seconds since the epoch, for WAHA's timestamp filter).
  created_epoch double precision
)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_ahead is null or p_ahead < interval '0' or p_ahead > interval '5 seconds' or p_ahead >= p_lease then
    raise exception 'p_ahead must be between 0 and 5 seconds and shorter than the lease'
      using errcode = 'invalid_parameter_value';
  end if;
  perform public.reclaim_messages_v2(p_worker, p_grace);
  return query
  with ready as (
    select w.tenant_id, w.next_send_at as send_at
    from public.waha_configurations w
    where w.sends_paused_at is null and w.next_send_at <= now() + p_ahead
      and exists (
        select 1 from public.message_logs x
        where x.tenant_id = w.tenant_id
          and x.status in ('scheduled', 'queued', 'failed')
          and x.next_attempt_at <= now())
    order by w.next_send_at
    limit p_limit
    for update skip locked
  ),
  picked as (
    select m.id, r.tenant_id, r.send_at
    from ready r
    cross join lateral (
      select x.id from public.message_logs x
      where x.tenant_id = r.tenant_id
        and x.status in ('scheduled', 'queued', 'failed')
        and x.next_attempt_at <= now()
      order by x.next_attempt_at, x.id
      limit 1
      for update skip locked
    ) m
  ),
  held as (
    update public.waha_configurations w
    set next_send_at = now() + p_lease
    from picked p
    where w.tenant_id = p.tenant_id
  ),
  claimed as (
    update public.message_logs m
    set status = 'sending',
        attempts = m.attempts + 1,
        lease_owner = p_worker,
        lease_expires_at = now() + p_lease
    from picked p
    where m.id = p.id
    returning m.id, m.tenant_id, m.reservation_id, m.request_id, m.job_id, m.attempts, m.max_attempts, p.send_at,
              m.send_uncertain, m.created_at
  )
  select c.id, c.tenant_id, c.reservation_id, c.request_id, c.job_id, c.attempts, c.max_attempts,
         greatest(0, extract(epoch from (c.send_at - clock_timestamp())) * 1000.0)::double precision,
         c.send_uncertain, extract(epoch from c.created_at)::double precision
  from claimed c;
end
$$;

revoke all on function public.register_worker_v1(text, uuid) from public, anon, authenticated;
revoke all on function public.deregister_worker_v1(text, uuid) from public, anon, authenticated;
revoke all on function public.reclaim_messages_v2(text, interval) from public, anon, authenticated;
revoke all on function public.leased_messages_v1(bigint[], text) from public, anon, authenticated;
revoke all on function public.claim_messages_v5(text, integer, interval, interval, interval) from public, anon, authenticated;
grant execute on function public.register_worker_v1(text, uuid) to service_role;
grant execute on function public.deregister_worker_v1(text, uuid) to service_role;
grant execute on function public.reclaim_messages_v2(text, interval) to service_role;
grant execute on function public.leased_messages_v1(bigint[], text) to service_role;
grant execute on function public.claim_messages_v5(text, integer, interval, interval, interval) to service_role;
