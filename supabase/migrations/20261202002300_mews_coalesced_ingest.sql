-- Mews deliveries carry no event id and no time: only {Discriminator, Value: {Id}}. The edge
-- function used to key them on the arrival minute, so one delivery retried across a minute
-- boundary was stored twice. Now a delivery is keyed on what identifies the change, the entity
-- (enterprise, integration, discriminator and the whole Value: its Id, and a version or update
-- time should Mews ever send one), and is one event with any event for the same key that is
-- still queued (pending):
--
--   * safe: a Mews event is thin; the worker fetches the entity's current state when it
--     processes the event. A queued event has not fetched yet, so its processing, which starts
--     after this delivery arrived, sees the change this delivery announces (Mews sends after
--     the change). Nothing is lost by not storing the delivery again.
--   * once the earlier event is being processed or done, the same content is a new event: it
--     may announce a change made after that fetch.
--
-- Deliveries for the same key are serialized by an advisory lock for the transaction, so two
-- copies arriving at once are still one event.

-- Finds the queued event of an entity without scanning the tenant's history: only pending Mews
-- rows are in it.
create index inbound_events_mews_queued_idx on public.inbound_events
  (tenant_id, event_type, (payload #>> '{Events,0,Value,Id}'))
  where provider = 'mews' and status = 'pending';

-- p_events: [{key, event_type, entity_id, payload}, ...] where key identifies the change (the
-- function's hash). Each event is stored under `<key>:<uuid>`, or answered as a duplicate of the
-- queued event with that key. Same result shape as ingest_inbound_events_v1.
create function public.ingest_mews_events_v1(p_tenant_id uuid, p_events jsonb, p_request_id text default null)
returns table (event_id text, id bigint, duplicate boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_event jsonb;
  v_key text;
  v_assigned jsonb := '{}'::jsonb;
  v_existing text;
  v_batch jsonb := '[]'::jsonb;
begin
  if jsonb_typeof(p_events) <> 'array' then
    raise exception 'p_events must be a JSON array' using errcode = 'invalid_parameter_value';
  end if;
  -- In key order, so two batches with the same keys never wait for each other in a cycle.
  for v_key in select distinct e ->> 'key' from jsonb_array_elements(p_events) e order by 1 loop
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('mews:' || p_tenant_id::text || ':' || v_key, 0));
  end loop;

  for v_event in select e from jsonb_array_elements(p_events) with ordinality as x (e, ord) order by ord loop
    v_key := v_event ->> 'key';
    if v_key is null or v_key !~ '^mews:[0-9a-f]{64}$' then
      raise exception 'each event needs a key mews:<sha-256 hex>' using errcode = 'invalid_parameter_value';
    end if;
    if not v_assigned ? v_key then
      select ie.event_id into v_existing
      from public.inbound_events ie
      where ie.tenant_id = p_tenant_id
        and ie.provider = 'mews'
        and ie.status = 'pending'
        and ie.event_type = v_event ->> 'event_type'
        and ie.payload #>> '{Events,0,Value,Id}' = v_event ->> 'entity_id'
        and ie.source = 'pms'
        and left(ie.event_id, length(v_key) + 1) = v_key || ':'
      order by ie.id desc
      limit 1;
      v_assigned := v_assigned || jsonb_build_object(v_key, coalesce(v_existing, v_key || ':' || gen_random_uuid()));
    end if;
    v_batch := v_batch || jsonb_build_array(jsonb_build_object(
      'event_id', v_assigned ->> v_key,
      'event_type', v_event ->> 'event_type',
      'payload', v_event -> 'payload'));
  end loop;

  return query
  select i.event_id, i.id, i.duplicate
  from public.ingest_inbound_events_v1(p_tenant_id, 'pms', 'mews', v_batch, p_request_id) i;
end
$$;

revoke all on function public.ingest_mews_events_v1(uuid, jsonb, text) from public, anon, authenticated;
grant execute on function public.ingest_mews_events_v1(uuid, jsonb, text) to service_role;
