-- Resending and replaying, one or many, with the reason for every message that cannot go.
--
-- resend_message put any dead, failed, cancelled or skipped message back to queued, and the
-- worker's prepare_messages_v1 then settled it again (a message cancelled with its reservation
-- was reported "queued" and cancelled once more). Now the same verdicts are checked before a
-- message is queued, and a message that cannot go is refused with the reason.

-- Why each of these messages cannot be sent again now (code and words), or null codes for the
-- ones that can. Mirrors the refusals of prepare_messages_v1, plus the message's own state.
create function private.resend_refusals(p_ids bigint[])
returns table (id bigint, tenant_id uuid, code text, reason text)
language plpgsql stable
set search_path = ''
as $$
begin
  return query
  with facts as (
    select m.id, m.tenant_id, m.status, m.to_phone as stored_phone, m.body as stored_body,
           coalesce(m.dedupe_key like m.reservation_id::text || ':%', false) as planned,
           r.status as reservation_status, a.trigger, coalesce(a.is_active, false) as rule_active,
           r.arrival_date, r.departure_date, g.id as guest_id, g.phone_e164, g.whatsapp_opt_in,
           (now() at time zone p.timezone)::date as local_today,
           w.id as waha_id,
           exists (select 1 from public.message_templates t
                   where t.tenant_id = m.tenant_id and t.key = m.template_key) as has_template
    from public.message_logs m
    left join public.reservations r on r.tenant_id = m.tenant_id and r.id = m.reservation_id
    left join public.properties p on p.tenant_id = r.tenant_id and p.id = r.property_id
    left join public.guests g on g.tenant_id = m.tenant_id and g.id = coalesce(r.guest_id, m.guest_id)
    left join public.automation_rules a on a.tenant_id = m.tenant_id and a.id = m.rule_id
    left join public.waha_configurations w on w.tenant_id = m.tenant_id
    where m.id = any (p_ids)
  ),
  verdicts as (
    select f.id, f.tenant_id,
      case
        when f.status in ('scheduled', 'queued', 'sending') then 'already_on_its_way:it is already waiting to be sent'
        when f.status in ('sent', 'delivered', 'read') then 'already_sent:it was already sent'
        when f.waha_id is null then 'no_whatsapp_connection:the hotel has no WhatsApp connection'
        when f.planned and f.reservation_status = 'no_show' then 'reservation_no_show:the reservation is a no-show'
        when f.planned and not f.rule_active then 'rule_inactive:the automation rule was removed or deactivated'
        when f.planned and f.trigger = 'booking_cancelled' and f.reservation_status <> 'cancelled'
          then 'reservation_not_cancelled:the reservation is no longer cancelled'
        when f.planned and f.trigger <> 'booking_cancelled' and f.reservation_status = 'cancelled'
          then 'reservation_cancelled:the reservation was cancelled'
        when f.guest_id is not null and not f.whatsapp_opt_in
          then 'guest_opted_out:the guest opted out of WhatsApp messages'
        when (case when f.planned then f.phone_e164 else coalesce(f.phone_e164, f.stored_phone) end) is null
          then 'no_phone:the guest has no phone number'
        when f.planned and not f.has_template then 'no_template:no message template for this key'
        when f.planned and f.trigger in ('before_arrival', 'arrival_day') and f.local_today > f.arrival_date
          then 'guest_already_arrived:too late, the guest has already arrived'
        when f.planned and f.trigger in ('booking_confirmed', 'booking_cancelled')
             and (f.reservation_status = 'checked_out' or f.local_today > f.departure_date)
          then 'stay_over:too late, the stay is already over'
        when not f.planned and btrim(coalesce(f.stored_body, '')) = '' then 'empty_message:the message text is empty'
      end as refusal
    from facts f
  )
  select v.id, v.tenant_id, split_part(v.refusal, ':', 1), nullif(substr(v.refusal, strpos(v.refusal, ':') + 1), '')
  from verdicts v;
end
$$;

revoke all on function private.resend_refusals(bigint[]) from public;

-- Queues the given messages (already checked) to be sent now, in id order (the lock order of
-- every other writer of message_logs).
create function private.queue_resends(p_ids bigint[]) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.message_logs m
  set status = 'queued', attempts = 0, next_attempt_at = now(), last_error = null
  from (select x.id from public.message_logs x where x.id = any (p_ids)
        and x.status in ('dead', 'failed', 'cancelled', 'skipped') order by x.id for update) l
  where m.id = l.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function private.queue_resends(bigint[]) from public;

-- Sends a dead, failed, cancelled or skipped message again, once. Returns false when it is
-- already on its way or was sent (a double click resends once). A message that cannot go is
-- refused (23514) with the reason; its code is in the error's detail.
create or replace function public.resend_message(p_message_id bigint) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
  v_refusal record;
begin
  select m.tenant_id into v_tenant from public.message_logs m where m.id = p_message_id;
  perform private.assert_row_access(v_tenant, '{owner,admin}', 'message', p_message_id::text);
  select * into v_refusal from private.resend_refusals(array[p_message_id]);
  if v_refusal.code in ('already_on_its_way', 'already_sent') then
    return false;
  end if;
  if v_refusal.code is not null then
    raise exception 'message % cannot be sent: %', p_message_id, v_refusal.reason
      using errcode = 'check_violation', detail = v_refusal.code;
  end if;
  return private.queue_resends(array[p_message_id]) = 1;
end
$$;

-- Resends many messages of a tenant: the given ids, or those matching the filter (status, last
-- change in [p_since, p_until), template key), at most p_limit. Returns
--   {"taken": n, "refused": {"<code>": n, ...}}
-- where the codes are those of resend_message, plus not_found (an id that does not exist or is
-- another tenant's: one answer for both) and over_limit (matches beyond p_limit, left alone).
create function public.resend_messages(
  p_tenant_id uuid,
  p_ids bigint[] default null,
  p_statuses public.message_status[] default '{dead}',
  p_since timestamptz default null,
  p_until timestamptz default null,
  p_template_key text default null,
  p_limit integer default 500
) returns jsonb
language plpgsql security definer
set search_path = ''
-- Planned for the actual statuses, so the default (dead) uses message_logs_dead_idx.
set plan_cache_mode = force_custom_plan
as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 500), 1), 5000);
  v_ids bigint[];
  v_matches integer;
  v_refused jsonb;
  v_ok bigint[];
  v_codes text[];
  v_taken integer;
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  if p_ids is not null and cardinality(p_ids) > v_limit then
    raise exception 'at most % ids at once', v_limit using errcode = 'invalid_parameter_value';
  end if;
  if p_ids is not null then
    v_ids := array(select m.id from public.message_logs m where m.id = any (p_ids) and m.tenant_id = p_tenant_id);
    v_matches := cardinality(v_ids);
  else
    v_ids := array(
      select m.id from public.message_logs m
      where m.tenant_id = p_tenant_id and m.status = any (p_statuses)
        and (p_since is null or m.updated_at >= p_since) and (p_until is null or m.updated_at < p_until)
        and (p_template_key is null or m.template_key = p_template_key)
      order by m.updated_at desc, m.id
      limit v_limit);
    select count(*) into v_matches from public.message_logs m
    where m.tenant_id = p_tenant_id and m.status = any (p_statuses)
      and (p_since is null or m.updated_at >= p_since) and (p_until is null or m.updated_at < p_until)
      and (p_template_key is null or m.template_key = p_template_key);
  end if;

  -- The verdicts first, then the queueing (afterwards the queued ones would read as on their way).
  select coalesce(array_agg(r.id) filter (where r.code is null), '{}'),
         coalesce(array_agg(r.code) filter (where r.code is not null), '{}')
  into v_ok, v_codes
  from private.resend_refusals(v_ids) r;
  v_taken := private.queue_resends(v_ok);

  select coalesce(jsonb_object_agg(x.code, x.n), '{}'::jsonb) into v_refused
  from (
    select c as code, count(*) as n from unnest(v_codes) c group by c
    union all
    select 'not_found', count(distinct i) from unnest(p_ids) i where not (i = any (v_ids))
    having count(distinct i) > 0
    union all
    select 'over_limit', v_matches - cardinality(v_ids) where p_ids is null and v_matches > cardinality(v_ids)
    union all
    -- Checked, then changed by someone else before it could be queued.
    select 'changed_meanwhile', cardinality(v_ok) - v_taken where cardinality(v_ok) > v_taken
  ) x;
  return jsonb_build_object('taken', v_taken, 'refused', v_refused);
end
$$;

-- Replays many dead-lettered inbound events of a tenant: the given ids, or the dead ones matching
-- the filter (dead-lettered in [p_since, p_until), provider, event type), at most p_limit.
-- Returns {"taken": n, "refused": {"not_dead_lettered": n, "not_found": n, "over_limit": n}}.
create function public.replay_inbound_events(
  p_tenant_id uuid,
  p_ids bigint[] default null,
  p_since timestamptz default null,
  p_until timestamptz default null,
  p_provider text default null,
  p_event_type text default null,
  p_limit integer default 500
) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 500), 1), 5000);
  v_ids bigint[];
  v_matches integer;
  v_dead bigint[];
  v_taken integer;
  v_refused jsonb;
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  if p_ids is not null and cardinality(p_ids) > v_limit then
    raise exception 'at most % ids at once', v_limit using errcode = 'invalid_parameter_value';
  end if;
  if p_ids is not null then
    v_ids := array(select e.id from public.inbound_events e where e.id = any (p_ids) and e.tenant_id = p_tenant_id);
    v_matches := cardinality(v_ids);
  else
    -- inbound_events_dead_idx: (tenant_id, updated_at desc) where status = 'dead'.
    v_ids := array(
      select e.id from public.inbound_events e
      where e.tenant_id = p_tenant_id and e.status = 'dead'
        and (p_since is null or e.updated_at >= p_since) and (p_until is null or e.updated_at < p_until)
        and (p_provider is null or e.provider = p_provider)
        and (p_event_type is null or e.event_type = p_event_type)
      order by e.updated_at desc, e.id
      limit v_limit);
    select count(*) into v_matches from public.inbound_events e
    where e.tenant_id = p_tenant_id and e.status = 'dead'
      and (p_since is null or e.updated_at >= p_since) and (p_until is null or e.updated_at < p_until)
      and (p_provider is null or e.provider = p_provider)
      and (p_event_type is null or e.event_type = p_event_type);
  end if;

  v_dead := array(select e.id from public.inbound_events e where e.id = any (v_ids) and e.status = 'dead'
                  order by e.id for update);
  update public.inbound_events e
  set status = 'pending', attempts = 0, next_attempt_at = now(), processed_at = null,
      replay_count = e.replay_count + 1
  where e.id = any (v_dead) and e.status = 'dead';
  get diagnostics v_taken = row_count;

  select coalesce(jsonb_object_agg(x.code, x.n), '{}'::jsonb) into v_refused
  from (
    select 'not_dead_lettered' as code, cardinality(v_ids) - cardinality(v_dead) as n
    where cardinality(v_ids) > cardinality(v_dead)
    union all
    select 'not_found', count(distinct i) from unnest(p_ids) i where not (i = any (v_ids))
    having count(distinct i) > 0
    union all
    select 'over_limit', v_matches - cardinality(v_ids) where p_ids is null and v_matches > cardinality(v_ids)
  ) x;
  return jsonb_build_object('taken', v_taken, 'refused', v_refused);
end
$$;

revoke all on function public.resend_messages(uuid, bigint[], public.message_status[], timestamptz, timestamptz, text, integer)
  from public, anon;
revoke all on function public.replay_inbound_events(uuid, bigint[], timestamptz, timestamptz, text, text, integer)
  from public, anon;
grant execute on function public.resend_messages(uuid, bigint[], public.message_status[], timestamptz, timestamptz, text, integer)
  to authenticated, service_role;
grant execute on function public.replay_inbound_events(uuid, bigint[], timestamptz, timestamptz, text, text, integer)
  to authenticated, service_role;
