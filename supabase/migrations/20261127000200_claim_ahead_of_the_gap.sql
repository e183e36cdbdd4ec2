-- Claim a session's next message shortly before its pacing gap ends, and say when it may go.
--
-- With claim_messages_v3 a session's next message is claimed only once its gap has passed, and
-- then the worker still has to check the guest's number with WAHA (one more round trip) before
-- sendText: every session's cycle was gap + claim + check + send. claim_messages_v4 also hands out
-- messages of sessions whose gap ends within p_ahead, with send_in_ms, how long the caller must
-- still wait before sendText; the worker checks the number meanwhile. The gap itself is unchanged:
-- it runs from WAHA's answer to the previous message, and at most one message per session is out.
--
-- A message handed back without reaching WAHA used to free its session at once (next_send_at =
-- now()). Claimed ahead, "now" can be inside the previous message's gap, so the session now
-- remembers where that gap ends (gap_ends_at) and a hand-back frees it no earlier.

alter table public.waha_configurations
  add column gap_ends_at timestamptz;

comment on column public.waha_configurations.gap_ends_at is
  'end of the pacing gap after the last message WAHA was asked to send; no message of the session goes out before it';

create function public.claim_messages_v4(
  p_worker text,
  p_limit integer default 500,
  p_lease interval default '2 minutes',
  p_ahead interval default '0'
) returns table (
  id bigint,
  tenant_id uuid,
  reservation_id uuid,
  request_id text,
  job_id uuid,
  attempts integer,
  max_attempts integer,
  send_in_ms double precision
)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  -- Bounded so a claimed message cannot wait out its own lease.
  if p_ahead is null or p_ahead < interval '0' or p_ahead > interval '5 seconds' or p_ahead >= p_lease then
    raise exception 'p_ahead must be between 0 and 5 seconds and shorter than the lease'
      using errcode = 'invalid_parameter_value';
  end if;
  perform public.reclaim_messages_v1();
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
    -- The session is busy until this message leaves `sending` (or its lease runs out).
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
    returning m.id, m.tenant_id, m.reservation_id, m.request_id, m.job_id, m.attempts, m.max_attempts, p.send_at
  )
  select c.id, c.tenant_id, c.reservation_id, c.request_id, c.job_id, c.attempts, c.max_attempts,
         greatest(0, extract(epoch from (c.send_at - clock_timestamp())) * 1000.0)::double precision
  from claimed c;
end
$$;

-- As before, plus gap_ends_at: a message WAHA was asked about starts a fresh random gap (from
-- WAHA's answer for a sent one); one handed back without reaching WAHA frees the session once the
-- previous gap has ended, not before.
create or replace function private.pace_session_after_send() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status in ('sent', 'failed', 'dead') then
    update public.waha_configurations w
    set (next_send_at, gap_ends_at) = (
      select g.ends, g.ends
      from (
        select greatest(
          (case when new.status = 'sent' then coalesce(new.sent_at, now()) else now() end)
            + make_interval(secs => (w.send_gap_min_ms + random() * (w.send_gap_max_ms - w.send_gap_min_ms)) / 1000.0),
          coalesce(w.gap_ends_at, '-infinity')) as ends
      ) g)
    where w.tenant_id = new.tenant_id;
  else
    update public.waha_configurations w
    set next_send_at = greatest(now(), coalesce(w.gap_ends_at, '-infinity'))
    where w.tenant_id = new.tenant_id;
  end if;
  return null;
end
$$;

revoke all on function public.claim_messages_v4(text, integer, interval, interval) from public, anon, authenticated;
grant execute on function public.claim_messages_v4(text, integer, interval, interval) to service_role;
