-- Record many WAHA-accepted sends in one statement, and pace each session from the moment WAHA
-- accepted its message rather than from the moment the worker got round to recording it.
--
-- mark_message_sent_v1 is one round trip, one transaction and one run of the statement-level
-- triggers (notify, ops history) per message; at hundreds of sends a second that was most of the
-- database's work on the send path. mark_messages_sent_v1 takes whatever finished while the
-- previous call ran. mark_message_sent_v1 stays for workers of the previous version during a
-- deploy.
--
-- Each send carries how long ago (worker's monotonic clock) WAHA answered it; the database turns
-- that into sent_at on its own clock, so skew between the hosts cannot shorten a gap. Pacing from
-- WAHA's answer is safe: the next message of the session is requested only after the gap, and
-- WAHA had this one before it answered.

create function public.mark_messages_sent_v1(
  p_worker text,
  p_ids bigint[],
  p_waha_message_ids text[],
  p_accepted_ms_ago double precision[]
) returns table (id bigint, session_ready_in_ms double precision)
language plpgsql
set search_path = ''
as $$
declare
  v_marked bigint[];
  v_tenants uuid[];
begin
  if cardinality(p_ids) is distinct from cardinality(p_waha_message_ids)
    or cardinality(p_ids) is distinct from cardinality(p_accepted_ms_ago) then
    raise exception 'ids, WAHA message ids and acceptance times must have the same length'
      using errcode = 'invalid_parameter_value';
  end if;

  -- In id order, so two callers touching overlapping rows lock them in the same order.
  with sends as (
    select s.id, s.waha_message_id, greatest(coalesce(s.ms_ago, 0), 0) as ms_ago
    from unnest(p_ids, p_waha_message_ids, p_accepted_ms_ago) as s (id, waha_message_id, ms_ago)
    order by s.id
  ),
  marked as (
    update public.message_logs m
    set status = 'sent', waha_message_id = s.waha_message_id,
        sent_at = clock_timestamp() - make_interval(secs => s.ms_ago / 1000.0),
        last_error = null, lease_owner = null, lease_expires_at = null
    from sends s
    where m.id = s.id and m.status = 'sending' and m.lease_owner = p_worker
    returning m.id, m.tenant_id
  )
  select array_agg(marked.id), array_agg(distinct marked.tenant_id) into v_marked, v_tenants from marked;

  -- The pacing trigger has run by now: tell the worker when each session may send again, so it
  -- can wake for it instead of waiting for the next poll.
  return query
  select m.id,
         (extract(epoch from (w.next_send_at - clock_timestamp())) * 1000.0)::double precision
  from public.message_logs m
  join public.waha_configurations w on w.tenant_id = m.tenant_id
  where m.id = any (coalesce(v_marked, '{}')) and w.tenant_id = any (coalesce(v_tenants, '{}'));
end
$$;

-- Same rule as before for failures and hand-backs; a sent message paces from its sent_at, which
-- mark_messages_sent_v1 sets to WAHA's answer and mark_message_sent_v1 to now().
create or replace function private.pace_session_after_send() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.waha_configurations w
  set next_send_at = case
    when new.status in ('sent', 'failed', 'dead')
      then (case when new.status = 'sent' then coalesce(new.sent_at, now()) else now() end)
        + make_interval(secs => (w.send_gap_min_ms + random() * (w.send_gap_max_ms - w.send_gap_min_ms)) / 1000.0)
    else now()
  end
  where w.tenant_id = new.tenant_id;
  return null;
end
$$;

revoke all on function public.mark_messages_sent_v1(text, bigint[], text[], double precision[])
  from public, anon, authenticated;
grant execute on function public.mark_messages_sent_v1(text, bigint[], text[], double precision[])
  to service_role;
