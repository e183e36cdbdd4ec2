-- Operations, part 4: one request's story, in order (`ops trace <requestId>`).
--
-- The request id a webhook arrived with is stored on its inbound events and follows into the
-- reservation it changed (last_request_id), the messages planned from it (request_id) and the
-- syncs it asked for (request_id); ops.state_history keeps each state change of those rows.
-- The logs carry the same id (requestId), so `requestId:"<id>"` finds the matching log lines.

create function ops.trace_request(p_request_id text)
returns table (
  at timestamptz,
  entity text,
  entity_id text,
  tenant_id uuid,
  change text,
  detail jsonb
)
language sql stable
set search_path = ''
as $$
  with recorded as (
    select h.entity, h.entity_id from ops.state_history h where h.request_id = p_request_id
  ),
  steps as (
    -- The webhook itself.
    select e.received_at as at, 0 as rank, 0::bigint as seq, 'inbound_event'::text as entity,
           e.id::text as entity_id, e.tenant_id,
           'received ' || e.source::text || '/' || e.provider || ' ' || e.event_type as change,
           jsonb_strip_nulls(jsonb_build_object('event_id', e.event_id, 'now', e.status, 'attempts', e.attempts,
                                                'replays', e.replay_count, 'error', e.last_error)) as detail
    from public.inbound_events e
    where e.request_id = p_request_id

    union all
    -- Syncs this request asked for.
    select j.requested_at, 0, 0, 'sync_job', j.id::text, j.tenant_id,
           'requested ' || j.kind::text || ' sync (' || j.trigger::text || ')',
           jsonb_strip_nulls(jsonb_build_object('pms_reservation_id', j.pms_reservation_id, 'now', j.status))
    from public.sync_jobs j
    where j.request_id = p_request_id

    union all
    -- Recorded changes: creations of reservations and messages, then every state change.
    select h.at, 1, h.id, h.entity, h.entity_id, h.tenant_id,
           case when h.from_status is null then
                  case h.entity when 'message' then 'planned (' || h.to_status || ')'
                                else 'created (' || h.to_status || ')' end
                when h.from_status = h.to_status then 'updated (' || h.to_status || ')'
                else h.from_status || ' -> ' || h.to_status end,
           h.detail
    from ops.state_history h
    where h.request_id = p_request_id

    union all
    -- Rows that carry the request id but have no recorded changes (recording was off, or they
    -- predate it): their own timestamps tell when they were made and how they stand now.
    select r.created_at, 1, 0, 'reservation', r.id::text, r.tenant_id,
           'last changed by this request; now ' || r.status::text,
           jsonb_build_object('pms_reservation_id', r.pms_reservation_id, 'pms_updated_at', r.pms_updated_at,
                              'updated_at', r.updated_at)
    from public.reservations r
    where r.last_request_id = p_request_id
      and not exists (select 1 from recorded x where x.entity = 'reservation' and x.entity_id = r.id::text)

    union all
    select m.created_at, 1, 0, 'message', m.id::text, m.tenant_id,
           'planned; now ' || m.status::text,
           jsonb_strip_nulls(jsonb_build_object('template', m.template_key, 'scheduled_for', m.scheduled_for,
                                                'sent_at', m.sent_at, 'delivered_at', m.delivered_at,
                                                'read_at', m.read_at, 'error', m.last_error))
    from public.message_logs m
    where m.request_id = p_request_id
      and not exists (select 1 from recorded x where x.entity = 'message' and x.entity_id = m.id::text)

    union all
    select coalesce(e.processed_at, e.updated_at), 2, 0, 'inbound_event', e.id::text, e.tenant_id,
           'now ' || e.status::text, jsonb_strip_nulls(jsonb_build_object('error', e.last_error))
    from public.inbound_events e
    where e.request_id = p_request_id and e.status <> 'pending'
      and not exists (select 1 from recorded x where x.entity = 'inbound_event' and x.entity_id = e.id::text)

    union all
    select coalesce(j.finished_at, j.updated_at), 2, 0, 'sync_job', j.id::text, j.tenant_id,
           'now ' || j.status::text, jsonb_strip_nulls(jsonb_build_object('error', j.error))
    from public.sync_jobs j
    where j.request_id = p_request_id and j.status <> 'pending'
      and not exists (select 1 from recorded x where x.entity = 'sync_job' and x.entity_id = j.id::text)
  )
  select s.at, s.entity, s.entity_id, s.tenant_id, s.change, s.detail
  from steps s
  order by s.at, s.rank, s.seq, s.entity, s.entity_id
$$;

revoke all on function ops.trace_request(text) from public, anon, authenticated;
grant execute on function ops.trace_request(text) to service_role;
