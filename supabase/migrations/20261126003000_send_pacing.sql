-- Per-session send pacing held in the database, so it holds across worker replicas.
--
-- WhatsApp bans numbers that send like machines. WAHA's guidance: random pauses between
-- messages of one session. claim_messages_v2 hands out at most one message per tenant session
-- per claim, only once the session's next_send_at has come, and moves next_send_at on by a random
-- gap in [send_gap_min_ms, send_gap_max_ms]. Many sessions are served in one claim, so one slow or
-- paused tenant never holds up the others.

alter table public.waha_configurations
  add column next_send_at timestamptz not null default now();

-- One tenant's due messages, oldest first (the per-tenant pick of claim_messages_v2).
create index message_logs_tenant_claimable_idx on public.message_logs (tenant_id, next_attempt_at, id)
where status in ('scheduled', 'queued', 'failed');

create index waha_configurations_ready_idx on public.waha_configurations (next_send_at)
where sends_paused_at is null;

create function public.claim_messages_v2(
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
    -- Sessions allowed to send now that have something due, longest waiting first. A session
    -- locked by another claimer is being paced by it: skip it.
    select w.tenant_id, w.send_gap_min_ms, w.send_gap_max_ms
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
    select m.id, r.tenant_id, r.send_gap_min_ms, r.send_gap_max_ms
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
  paced as (
    update public.waha_configurations w
    set next_send_at = now() + make_interval(
      secs => (p.send_gap_min_ms + random() * (p.send_gap_max_ms - p.send_gap_min_ms)) / 1000.0)
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

-- When the sender should look again: the next scheduled message, or the next moment a paced
-- session with due messages may send. Null when nothing is waiting.
create function public.next_message_due_v1() returns timestamptz
language sql stable
set search_path = ''
as $$
  select least(
    (select min(m.next_attempt_at) from public.message_logs m
     where m.status in ('scheduled', 'queued', 'failed') and m.next_attempt_at > now()),
    (select min(w.next_send_at) from public.waha_configurations w
     where w.sends_paused_at is null and w.next_send_at > now()
       and exists (
         select 1 from public.message_logs m
         where m.tenant_id = w.tenant_id and m.status in ('scheduled', 'queued', 'failed')
           and m.next_attempt_at <= now())))
$$;

revoke all on function public.claim_messages_v2(text, integer, interval) from public, anon, authenticated;
revoke all on function public.next_message_due_v1() from public, anon, authenticated;
grant execute on function public.claim_messages_v2(text, integer, interval) to service_role;
grant execute on function public.next_message_due_v1() to service_role;
