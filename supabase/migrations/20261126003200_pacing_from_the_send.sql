-- Pace a WhatsApp session from its last send, not from the last claim.
--
-- claim_messages_v2 moved next_send_at on when it handed a message out, so a message still
-- waiting in one worker's HTTP pool did not hold its session: another worker could claim and
-- deliver the session's next message sooner than the minimum gap (the delivery benchmark saw
-- 211-287 ms against 500 ms). Now a claim holds the session for the lease, and the gap starts when
-- the message leaves `sending` (sent, failed, dead: WAHA was asked; otherwise the session is free
-- at once). A worker that dies mid-send holds its session only until the lease is reclaimed.

create function public.claim_messages_v3(
  p_worker text,
  p_limit integer default 500,
  p_lease interval default '2 minutes'
) returns setof public.message_logs
language plpgsql
set search_path = ''
as $$
begin
  perform public.reclaim_messages_v1();
  return query
  with ready as (
    select w.tenant_id
    from public.waha_configurations w
    where w.sends_paused_at is null and w.next_send_at <= now()
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
    select m.id, r.tenant_id
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
  )
  update public.message_logs m
  set status = 'sending',
      attempts = m.attempts + 1,
      lease_owner = p_worker,
      lease_expires_at = now() + p_lease
  from picked
  where m.id = picked.id
  returning m.*;
end
$$;

create function private.pace_session_after_send() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.waha_configurations w
  set next_send_at = case
    when new.status in ('sent', 'failed', 'dead')
      then now() + make_interval(secs => (w.send_gap_min_ms + random() * (w.send_gap_max_ms - w.send_gap_min_ms)) / 1000.0)
    else now()
  end
  where w.tenant_id = new.tenant_id;
  return null;
end
$$;

create trigger message_logs_pace_session
after update of status on public.message_logs
for each row
when (old.status = 'sending' and new.status <> 'sending')
execute function private.pace_session_after_send();

revoke all on function public.claim_messages_v3(text, integer, interval) from public, anon, authenticated;
grant execute on function public.claim_messages_v3(text, integer, interval) to service_role;
revoke all on function private.pace_session_after_send() from public;
