-- Guest conversations: how messages get into a thread, and the inbox's RPCs.
--
-- In:  the worker stores each WAHA `message`/`message.any` of a guest chat with
--      internal.record_conversation_message_v1 (once per WAHA message key); our own sends appear
--      in the thread when message_logs says they went out (trigger below), whatever WAHA's echo.
-- Out: public.send_reply puts a staff reply into message_logs, the one send queue (same
--      retries, dead-lettering, ticks and pacing); claim_messages_v6 takes a session's replies
--      ahead of its automations, one at a time, with the same gap.
-- Opt-out: STOP opts the guest out (as before); START opts back in where the hotel allows it
--      (tenants.guest_opt_in_by_message). A reply to an opted-out guest needs a confirmation and
--      a reason, and is refused once the guest wrote STOP again after the last confirmed reply.

-- ============================================================================================
-- Helpers
-- ============================================================================================

-- The property of the guest's current stay, else their next, else their latest.
create function private.guest_property(p_tenant_id uuid, p_guest_id uuid) returns uuid
language sql stable
set search_path = ''
as $$
  select r.property_id from public.reservations r
  where r.tenant_id = p_tenant_id and r.guest_id = p_guest_id and p_guest_id is not null
  order by (r.departure_date >= current_date and r.status not in ('cancelled', 'no_show')) desc,
           case when r.departure_date >= current_date then r.arrival_date end asc nulls last,
           r.departure_date desc
  limit 1
$$;

-- The guest (of the tenant) with this phone number, if any.
create function private.guest_by_phone(p_tenant_id uuid, p_phone text) returns uuid
language sql stable
set search_path = ''
as $$
  select g.id from public.guests g where g.tenant_id = p_tenant_id and g.phone_e164 = p_phone and p_phone is not null
$$;

-- Opted out: the linked guest's flag; for an unknown number, whether its last word on consent
-- in this thread was STOP.
create function private.conversation_opted_out(p_conversation public.conversations) returns boolean
language sql stable
set search_path = ''
as $$
  select case
    when p_conversation.guest_id is not null then
      coalesce((select not g.whatsapp_opt_in from public.guests g
                where g.tenant_id = p_conversation.tenant_id and g.id = p_conversation.guest_id), false)
    else coalesce((
      select m.consent_change = 'opted_out' from public.conversation_messages m
      where m.conversation_id = p_conversation.id and m.consent_change in ('opted_out', 'opted_in')
      order by m.id desc limit 1), false)
  end
$$;

create function private.message_preview(p_body text, p_media_kind text) returns text
language sql immutable
set search_path = ''
as $$
  select left(coalesce(
    case when p_media_kind is not null then '[' || p_media_kind || '] ' else '' end
      || nullif(btrim(regexp_replace(coalesce(p_body, ''), '\s+', ' ', 'g')), ''),
    '[' || p_media_kind || ']'), 200)
$$;

revoke all on function private.guest_property(uuid, uuid) from public;
revoke all on function private.guest_by_phone(uuid, text) from public;
revoke all on function private.conversation_opted_out(public.conversations) from public;
revoke all on function private.message_preview(text, text) from public;

-- ============================================================================================
-- Our sends in the thread: message_logs -> conversation_messages
-- ============================================================================================
-- A staff reply has its thread row from the start (send_reply) and follows the queue here. An
-- automated message appears once it went out (sent), in the guest's conversation, which it
-- opens if there is none yet (closed: nothing for staff to answer until the guest writes).
create function private.message_log_to_thread() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_session text;
  v_chat text;
  v_guest uuid;
  v_conversation uuid;
  v_key text := case when new.waha_message_id ~ '^(true|false)_.+_[^_]+$'
                     then substring(new.waha_message_id from '_([^_]+)$') else new.waha_message_id end;
begin
  if new.conversation_id is not null then
    if new.waha_message_id is not null then
      -- An echo of this reply stored as "from the phone" before the send was recorded.
      delete from public.conversation_messages x
      using public.conversation_messages own
      where own.message_log_id = new.id
        and x.tenant_id = new.tenant_id and x.waha_session = own.waha_session and x.waha_key = v_key
        and x.message_log_id is null and x.sender = 'phone';
    end if;
    update public.conversation_messages c
    set delivery_status = new.status,
        waha_message_id = coalesce(new.waha_message_id, c.waha_message_id),
        last_error = case when new.status in ('failed', 'dead', 'cancelled', 'skipped') then new.last_error end
    where c.message_log_id = new.id;
    return null;
  end if;

  update public.conversation_messages c
  set delivery_status = new.status,
      last_error = case when new.status in ('failed', 'dead', 'cancelled', 'skipped') then new.last_error end
  where c.message_log_id = new.id;
  if found or new.status <> 'sent' or new.to_phone is null or new.waha_message_id is null then
    return null;
  end if;

  select w.session_name into v_session from public.waha_configurations w where w.tenant_id = new.tenant_id;
  if v_session is null then
    return null;
  end if;
  v_chat := substr(new.to_phone, 2) || '@c.us';
  v_guest := coalesce(new.guest_id,
    (select r.guest_id from public.reservations r where r.tenant_id = new.tenant_id and r.id = new.reservation_id));
  insert into public.conversations as c
    (tenant_id, waha_session, chat_id, phone_e164, guest_id, property_id, status, last_message_at, last_message_preview)
  values (new.tenant_id, v_session, v_chat, new.to_phone, v_guest, private.guest_property(new.tenant_id, v_guest),
          'closed', coalesce(new.sent_at, now()), private.message_preview(new.body, null))
  on conflict (tenant_id, waha_session, chat_id) do update
  set guest_id = coalesce(c.guest_id, excluded.guest_id),
      property_id = coalesce(excluded.property_id, c.property_id),
      last_message_at = greatest(c.last_message_at, excluded.last_message_at),
      last_message_preview = case when excluded.last_message_at >= c.last_message_at
                                  then excluded.last_message_preview else c.last_message_preview end
  returning c.id into v_conversation;

  insert into public.conversation_messages as x
    (tenant_id, conversation_id, direction, sender, message_log_id, delivery_status, waha_message_id, waha_session,
     body, sent_at)
  values (new.tenant_id, v_conversation, 'outbound', 'automation', new.id, new.status, new.waha_message_id, v_session,
          new.body, coalesce(new.sent_at, now()))
  on conflict (tenant_id, waha_session, waha_key) where waha_key is not null do update
  -- WAHA's echo came first and was taken for the phone: it is ours.
  set sender = 'automation', message_log_id = excluded.message_log_id, delivery_status = excluded.delivery_status;
  return null;
end
$$;

create trigger message_logs_to_thread after update of status, waha_message_id on public.message_logs
for each row
when ((old.status is distinct from new.status or old.waha_message_id is distinct from new.waha_message_id)
      and (new.conversation_id is not null or new.status in ('sent', 'delivered', 'read', 'dead')))
execute function private.message_log_to_thread();

revoke all on function private.message_log_to_thread() from public;

-- ============================================================================================
-- Ingestion (the worker)
-- ============================================================================================
-- Stores one WAHA message of a one-to-one chat. p_media: {kind, mimetype, filename, size, url,
-- latitude, longitude, location_name} (all optional). p_consent: 'stop' | 'start' | null, what the
-- worker recognised in the text. Outcomes:
--   stored        a new message in the thread (consent_change says what it did to consent)
--   duplicate     this WAHA message is stored already (a retry or a replay): nothing changed
--   ours          fromMe and one of our sends: the thread has it from message_logs
--   pending_send  fromMe while one of our sends to this chat is out and not recorded yet: try
--                 again shortly (it is probably ours)
create function internal.record_conversation_message_v1(
  p_tenant_id uuid,
  p_session text,
  p_chat_id text,
  p_waha_message_id text,
  p_from_me boolean,
  p_sent_at timestamptz,
  p_body text,
  p_contact_name text default null,
  p_media jsonb default null,
  p_language text default null,
  p_consent text default null
) returns table (outcome text, conversation_id uuid, message_id bigint, consent_change text)
language plpgsql
set search_path = ''
as $$
declare
  v_key text := case when p_waha_message_id ~ '^(true|false)_.+_[^_]+$'
                     then substring(p_waha_message_id from '_([^_]+)$') else p_waha_message_id end;
  v_phone text := case when p_chat_id ~ '^[1-9][0-9]{6,14}@(c\.us|s\.whatsapp\.net)$'
                       then '+' || split_part(p_chat_id, '@', 1) end;
  v_chat text := case when p_chat_id ~ '@s\.whatsapp\.net$'
                      then split_part(p_chat_id, '@', 1) || '@c.us' else p_chat_id end;
  v_log public.message_logs;
  v_conversation public.conversations;
  v_guest public.guests;
  v_id bigint;
  v_kind text := nullif(p_media ->> 'kind', '');
  v_consent text;
  v_inbound boolean := not p_from_me;
  v_at timestamptz := least(coalesce(p_sent_at, now()), now());
begin
  -- (#variable_conflict is not needed: every column is qualified.)
  if p_waha_message_id is null or v_key is null or p_session is null or p_chat_id is null then
    raise exception 'a conversation message needs its WAHA id, session and chat' using errcode = 'invalid_parameter_value';
  end if;
  if p_consent is not null and p_consent not in ('stop', 'start') then
    raise exception 'p_consent must be stop, start or null' using errcode = 'invalid_parameter_value';
  end if;

  if p_from_me then
    select m.* into v_log from public.message_logs m
    where m.tenant_id = p_tenant_id and m.waha_message_id in (p_waha_message_id, v_key)
    limit 1;
    if v_log.id is not null then
      select c.id, c.conversation_id into v_id, conversation_id
      from public.conversation_messages c where c.message_log_id = v_log.id;
      return query select 'ours'::text, conversation_id, v_id, null::text;
      return;
    end if;
    if v_phone is not null and exists (
      select 1 from public.message_logs m
      where m.tenant_id = p_tenant_id and m.to_phone = v_phone and m.status = 'sending')
    then
      return query select 'pending_send'::text, null::uuid, null::bigint, null::text;
      return;
    end if;
  end if;

  select c.id, c.conversation_id into v_id, conversation_id from public.conversation_messages c
  where c.tenant_id = p_tenant_id and c.waha_session = p_session and c.waha_key = v_key;
  if v_id is not null then
    return query select 'duplicate'::text, conversation_id, v_id, null::text;
    return;
  end if;

  insert into public.conversations as c
    (tenant_id, waha_session, chat_id, phone_e164, guest_id, contact_name, status, last_message_at)
  values (p_tenant_id, p_session, v_chat, v_phone, private.guest_by_phone(p_tenant_id, v_phone),
          left(nullif(btrim(p_contact_name), ''), 300), case when v_inbound then 'open' else 'closed' end, v_at)
  on conflict (tenant_id, waha_session, chat_id) do update
  set contact_name = coalesce(case when v_inbound then excluded.contact_name end, c.contact_name),
      -- A guest added since the first message is linked now.
      guest_id = coalesce(c.guest_id, excluded.guest_id)
  returning c.* into v_conversation;

  insert into public.conversation_messages as x
    (tenant_id, conversation_id, direction, sender, waha_message_id, waha_session, body, media_kind, media_mimetype,
     media_filename, media_size, media_url, location_latitude, location_longitude, location_name, language, sent_at)
  values (
    p_tenant_id, v_conversation.id, case when v_inbound then 'inbound' else 'outbound' end,
    case when v_inbound then 'guest' else 'phone' end, p_waha_message_id, p_session, left(p_body, 65536), v_kind,
    left(p_media ->> 'mimetype', 200), left(p_media ->> 'filename', 500),
    case when (p_media ->> 'size') ~ '^[0-9]{1,15}$' then (p_media ->> 'size')::bigint end,
    left(nullif(p_media ->> 'url', ''), 2000),
    case when (p_media ->> 'latitude') ~ '^-?[0-9]+(\.[0-9]+)?$' and abs((p_media ->> 'latitude')::double precision) <= 90
         then (p_media ->> 'latitude')::double precision end,
    case when (p_media ->> 'longitude') ~ '^-?[0-9]+(\.[0-9]+)?$' and abs((p_media ->> 'longitude')::double precision) <= 180
         then (p_media ->> 'longitude')::double precision end,
    left(nullif(p_media ->> 'location_name', ''), 500),
    case when v_inbound and p_language ~ '^[a-z]{2}$' then p_language end,
    v_at)
  on conflict (tenant_id, waha_session, waha_key) where waha_key is not null do nothing
  returning x.id into v_id;
  if v_id is null then
    -- Stored concurrently by another event of the same message (message and message.any).
    return query select 'duplicate'::text, v_conversation.id, c.id, null::text
      from public.conversation_messages c
      where c.tenant_id = p_tenant_id and c.waha_session = p_session and c.waha_key = v_key;
    return;
  end if;

  -- Consent, only from the guest's own words and only once per message.
  if v_inbound and p_consent is not null then
    select * into v_guest from public.guests g
    where g.tenant_id = p_tenant_id and g.id = v_conversation.guest_id
    for update;
    if p_consent = 'stop' then
      v_consent := 'opted_out';
      if v_guest.id is not null and v_guest.whatsapp_opt_in then
        update public.guests g
        set whatsapp_opt_in = false, opted_out_at = now(), opt_out_reason = 'guest asked to stop'
        where g.id = v_guest.id;
      end if;
      -- Confirmed replies not sent yet: the guest said no again.
      update public.message_logs m
      set status = 'cancelled', last_error = 'guest wrote STOP again'
      from (
        select y.id from public.message_logs y
        where y.conversation_id = v_conversation.id and y.status in ('scheduled', 'queued', 'failed')
        order by y.id
        for update
      ) w
      where m.id = w.id;
    elsif private.conversation_opted_out(v_conversation) then
      if (select t.guest_opt_in_by_message from public.tenants t where t.id = p_tenant_id) then
        v_consent := 'opted_in';
        if v_guest.id is not null then
          perform set_config('app.consent_reason', 'guest wrote START', true);
          update public.guests g
          set whatsapp_opt_in = true, opted_in_at = now(), opt_out_reason = null
          where g.id = v_guest.id;
          perform set_config('app.consent_reason', '', true);
        end if;
      else
        v_consent := 'opt_in_refused';
      end if;
    end if;
    if v_consent is not null then
      update public.conversation_messages c set consent_change = v_consent where c.id = v_id;
    end if;
  end if;

  update public.conversations c
  set last_message_at = greatest(c.last_message_at, v_at),
      last_message_preview = case when v_at >= c.last_message_at
                                  then private.message_preview(p_body, v_kind) else c.last_message_preview end,
      last_inbound_at = case when v_inbound then greatest(coalesce(c.last_inbound_at, v_at), v_at) else c.last_inbound_at end,
      status = case when v_inbound then 'open' else c.status end,
      detected_language = case when v_inbound and p_language ~ '^[a-z]{2}$' then p_language else c.detected_language end,
      property_id = coalesce(private.guest_property(c.tenant_id, c.guest_id), c.property_id)
  where c.id = v_conversation.id;

  return query select 'stored'::text, v_conversation.id, v_id, v_consent;
end
$$;

revoke all on function internal.record_conversation_message_v1(uuid, text, text, text, boolean, timestamptz, text, text, jsonb, text, text)
  from public, anon, authenticated;
grant execute on function internal.record_conversation_message_v1(uuid, text, text, text, boolean, timestamptz, text, text, jsonb, text, text)
  to service_role;

-- ============================================================================================
-- The queue: replies first, same gap
-- ============================================================================================
-- claim_messages_v5 with one change: a session's next message is its oldest due staff reply
-- (priority 1) before its oldest due automation. Which sessions may send, and when, is
-- unchanged: one message per session per gap. v5 stays for workers of the previous version.
create function internal.claim_messages_v6(
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
  send_uncertain boolean,
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
  perform internal.reclaim_messages_v2(p_worker, p_grace);
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
      order by x.priority desc, x.next_attempt_at, x.id
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

revoke all on function internal.claim_messages_v6(text, integer, interval, interval, interval) from public, anon, authenticated;
grant execute on function internal.claim_messages_v6(text, integer, interval, interval, interval) to service_role;

-- prepare_messages_v1 with one change: a reply a member confirmed for an opted-out guest
-- (opt_out_override) goes out. STOP written again cancels it before (see ingestion above).
create function internal.prepare_messages_v2(p_ids bigint[], p_worker text)
returns table (id bigint, to_phone text, body text, language text)
language plpgsql
rows 100
set search_path = ''
set jit = off
as $$
begin
  return query
  with facts as materialized (
    select m.id, m.to_phone as stored_phone, m.body as stored_body, m.opt_out_override,
           coalesce(m.dedupe_key like m.reservation_id::text || ':%', false) as planned,
           r.status as reservation_status, a.trigger, coalesce(a.is_active, false) as rule_active,
           r.arrival_date, r.departure_date,
           g.id as guest_id, g.phone_e164, g.whatsapp_opt_in,
           (now() at time zone p.timezone)::date as local_today,
           private.after_quiet_hours(now(), p.timezone, p.quiet_hours_start, p.quiet_hours_end) as allowed_at,
           tpl.language as tpl_language,
           case when tpl.body is not null
             then private.render_template(tpl.body, private.message_vars(r, p, g)) end as rendered
    from public.message_logs m
    left join public.reservations r on r.tenant_id = m.tenant_id and r.id = m.reservation_id
    left join public.properties p on p.tenant_id = r.tenant_id and p.id = r.property_id
    left join public.tenants t on t.id = m.tenant_id
    left join public.guests g on g.tenant_id = m.tenant_id and g.id = coalesce(r.guest_id, m.guest_id)
    left join public.automation_rules a on a.tenant_id = m.tenant_id and a.id = m.rule_id
    left join lateral private.choose_template(m.tenant_id, m.template_key, g.language, t.default_language) tpl
      on m.reservation_id is not null
    where m.id = any (p_ids) and m.status = 'sending' and m.lease_owner = p_worker
  ),
  verdicts as materialized (
    select f.id, f.planned,
           case when f.planned then f.phone_e164 else coalesce(f.phone_e164, f.stored_phone) end as phone,
           case when f.planned then f.rendered else f.stored_body end as text,
           f.tpl_language,
           case
             when f.planned and f.reservation_status = 'no_show' then 'cancelled:reservation is a no-show'
             when f.planned and not f.rule_active then 'cancelled:the automation rule was removed or deactivated'
             when f.planned and f.trigger = 'booking_cancelled' and f.reservation_status <> 'cancelled'
               then 'cancelled:reservation is no longer cancelled'
             when f.planned and f.trigger <> 'booking_cancelled' and f.reservation_status = 'cancelled'
               then 'cancelled:reservation was cancelled'
             when f.guest_id is not null and not f.whatsapp_opt_in and not (f.opt_out_override and not f.planned)
               then 'cancelled:guest opted out of WhatsApp messages'
             when (case when f.planned then f.phone_e164 else coalesce(f.phone_e164, f.stored_phone) end) is null
               then 'skipped:guest has no phone number'
             when f.planned and f.rendered is null then 'skipped:no message template for this key in any language'
             when f.planned and f.trigger in ('before_arrival', 'arrival_day') and f.local_today > f.arrival_date
               then 'skipped:too late: the guest has already arrived'
             when f.planned and f.trigger in ('booking_confirmed', 'booking_cancelled')
                  and (f.reservation_status = 'checked_out' or f.local_today > f.departure_date)
               then 'skipped:too late: the stay is already over'
             when btrim(coalesce(case when f.planned then f.rendered else f.stored_body end, '')) = ''
               then 'dead:the message text is empty'
           end as refusal,
           case when f.allowed_at > now() then f.allowed_at end as deferred_to
    from facts f
  ),
  settled as (
    update public.message_logs m
    set status = case
          when v.refusal is not null then split_part(v.refusal, ':', 1)
          when v.deferred_to is not null then 'queued'
          else 'sending'
        end::public.message_status,
        to_phone = case when v.refusal is null then v.phone else m.to_phone end,
        body = case when v.refusal is null then v.text else m.body end,
        language = case when v.refusal is null and v.planned then v.tpl_language else m.language end,
        last_error = case
          when v.refusal is not null then substr(v.refusal, strpos(v.refusal, ':') + 1)
          when v.deferred_to is not null then format('deferred: quiet hours until %s', v.deferred_to)
          else m.last_error
        end,
        next_attempt_at = coalesce(v.deferred_to, m.next_attempt_at),
        attempts = case when v.refusal is null and v.deferred_to is null then m.attempts
                        else greatest(m.attempts - 1, 0) end,
        lease_owner = case when v.refusal is null and v.deferred_to is null then m.lease_owner end,
        lease_expires_at = case when v.refusal is null and v.deferred_to is null then m.lease_expires_at end
    from verdicts v
    where m.id = v.id
    returning m.id, m.to_phone, m.body, m.language, m.status
  )
  select s.id, s.to_phone, s.body, s.language from settled s where s.status = 'sending' order by s.id;
end
$$;

revoke all on function internal.prepare_messages_v2(bigint[], text) from public, anon, authenticated;
grant execute on function internal.prepare_messages_v2(bigint[], text) to service_role;
