-- The inbox's tenant RPCs (docs/inbox-contract.md). Every member (owner, admin, staff) works the
-- inbox; only owners and admins change the hotel's inbox settings. An id that is missing or not
-- the caller's gets the one answer (private.assert_row_access: PT404).

-- The conversation, locked, after the caller's access to it is checked.
create function private.conversation_for(p_conversation_id uuid, p_roles public.member_role[] default '{owner,admin,staff}')
returns public.conversations
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations;
begin
  select * into v_conversation from public.conversations c where c.id = p_conversation_id for update;
  perform private.assert_row_access(v_conversation.tenant_id, p_roles, 'conversation', p_conversation_id::text);
  return v_conversation;
end
$$;

revoke all on function private.conversation_for(uuid, public.member_role[]) from public;
grant execute on function private.conversation_for(uuid, public.member_role[]) to authenticated, service_role;

-- ============================================================================================
-- The inbox list and its counts
-- ============================================================================================
create function public.list_conversations(
  p_tenant_id uuid,
  p_status text default 'open',
  p_property_id uuid default null,
  p_search text default null,
  p_assignee_id uuid default null,
  p_unread_only boolean default false,
  p_limit integer default 50,
  p_before timestamptz default null
) returns table (
  id uuid,
  property_id uuid,
  waha_session text,
  chat_id text,
  phone_e164 text,
  guest_id uuid,
  guest_name text,
  contact_name text,
  status text,
  assignee_id uuid,
  last_message_at timestamptz,
  last_message_preview text,
  detected_language text,
  guest_language text,
  guest_opted_out boolean,
  unread_count integer
)
language plpgsql security definer
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  v_query text := nullif(btrim(p_search), '');
  v_like text;
  v_digits text;
  v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 200);
  v_user uuid := (select auth.uid());
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin,staff}', 'tenant', p_tenant_id::text);
  if coalesce(p_status, '') not in ('open', 'closed', 'all') then
    raise exception 'status must be open, closed or all' using errcode = 'invalid_parameter_value';
  end if;
  if v_query is not null then
    if length(v_query) < 2 or length(v_query) > 200 then
      raise exception 'search for 2 to 200 characters' using errcode = 'invalid_parameter_value';
    end if;
    v_like := '%' || replace(replace(replace(v_query, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    v_digits := nullif(regexp_replace(v_query, '[^0-9]', '', 'g'), '');
    if length(v_digits) < 3 or v_query ~ '[[:alpha:]]' then
      v_digits := null;
    end if;
  end if;

  return query
  select c.id, c.property_id, c.waha_session, c.chat_id, c.phone_e164, c.guest_id, g.full_name, c.contact_name,
         c.status, c.assignee_id, c.last_message_at, c.last_message_preview, c.detected_language, g.language,
         private.conversation_opted_out(c),
         u.n::integer
  from public.conversations c
  left join public.guests g on g.tenant_id = c.tenant_id and g.id = c.guest_id
  left join public.conversation_reads r on r.conversation_id = c.id and r.user_id = v_user
  cross join lateral (
    select count(*) as n from public.conversation_messages m
    where m.conversation_id = c.id and m.direction = 'inbound' and m.id > coalesce(r.last_read_message_id, 0)
  ) u
  where c.tenant_id = p_tenant_id
    and (p_status = 'all' or c.status = p_status)
    and (p_property_id is null or c.property_id = p_property_id)
    and (p_assignee_id is null or c.assignee_id = p_assignee_id)
    and (p_before is null or c.last_message_at < p_before)
    and (not coalesce(p_unread_only, false) or u.n > 0)
    and (v_query is null
      or g.full_name ilike v_like
      or c.contact_name ilike v_like
      or (v_digits is not null and c.phone_e164 like '%' || v_digits || '%')
      or exists (
        select 1 from public.reservations x
        where x.tenant_id = c.tenant_id and x.guest_id = c.guest_id and x.pms_reservation_id ilike v_like)
      or c.id in (
        select m.conversation_id from public.conversation_messages m
        where m.tenant_id = p_tenant_id and m.body ilike v_like))
  order by c.last_message_at desc, c.id
  limit v_limit;
end
$$;

-- The caller's counts: one row per property with conversations, property_id null for the
-- conversations of unknown numbers. The hotel's total is their sum.
create function public.inbox_unread_counts(p_tenant_id uuid)
returns table (property_id uuid, open_conversations integer, unread_conversations integer, unread_messages integer)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin,staff}', 'tenant', p_tenant_id::text);
  return query
  select c.property_id,
         (count(*) filter (where c.status = 'open'))::integer,
         (count(*) filter (where u.n > 0))::integer,
         coalesce(sum(u.n), 0)::integer
  from public.conversations c
  left join public.conversation_reads r on r.conversation_id = c.id and r.user_id = v_user
  cross join lateral (
    select count(*) as n from public.conversation_messages m
    where m.conversation_id = c.id and m.direction = 'inbound' and m.id > coalesce(r.last_read_message_id, 0)
  ) u
  where c.tenant_id = p_tenant_id and c.last_inbound_at is not null
  group by c.property_id
  order by c.property_id nulls last;
end
$$;

-- ============================================================================================
-- Working a conversation
-- ============================================================================================
create function public.mark_conversation_read(p_conversation_id uuid, p_up_to_message_id bigint default null)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations;
  v_upto bigint;
begin
  select * into v_conversation from public.conversations c where c.id = p_conversation_id;
  perform private.assert_row_access(v_conversation.tenant_id, '{owner,admin,staff}', 'conversation', p_conversation_id::text);
  select coalesce(max(m.id), 0) into v_upto from public.conversation_messages m
  where m.conversation_id = p_conversation_id and (p_up_to_message_id is null or m.id <= p_up_to_message_id);
  insert into public.conversation_reads as r (tenant_id, conversation_id, user_id, last_read_message_id, read_at)
  values (v_conversation.tenant_id, p_conversation_id, (select auth.uid()), v_upto, now())
  on conflict (conversation_id, user_id) do update
  set last_read_message_id = greatest(r.last_read_message_id, excluded.last_read_message_id), read_at = now();
end
$$;

create function public.set_conversation_status(p_conversation_id uuid, p_status text) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.conversation_for(p_conversation_id);
  if p_status is null or p_status not in ('open', 'closed') then
    raise exception 'status must be open or closed' using errcode = 'invalid_parameter_value';
  end if;
  update public.conversations c set status = p_status where c.id = p_conversation_id and c.status <> p_status;
end
$$;

create function public.assign_conversation(p_conversation_id uuid, p_assignee_id uuid) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations := private.conversation_for(p_conversation_id);
begin
  if p_assignee_id is not null and not exists (
    select 1 from public.tenant_members m where m.tenant_id = v_conversation.tenant_id and m.user_id = p_assignee_id)
  then
    raise exception 'assign the conversation to a member of this hotel' using errcode = 'invalid_parameter_value';
  end if;
  update public.conversations c set assignee_id = p_assignee_id
  where c.id = p_conversation_id and c.assignee_id is distinct from p_assignee_id;
end
$$;

create function public.add_conversation_note(p_conversation_id uuid, p_body text) returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations := private.conversation_for(p_conversation_id);
  v_body text := btrim(p_body);
  v_id bigint;
begin
  if v_body is null or length(v_body) not between 1 and 4000 then
    raise exception 'write a note of 1 to 4000 characters' using errcode = 'invalid_parameter_value';
  end if;
  insert into public.conversation_notes (tenant_id, conversation_id, author_id, body)
  values (v_conversation.tenant_id, p_conversation_id, (select auth.uid()), v_body)
  returning id into v_id;
  return v_id;
end
$$;

-- Links the conversation of an unknown number to a guest of the same hotel (null unlinks).
create function public.link_conversation_guest(p_conversation_id uuid, p_guest_id uuid) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations := private.conversation_for(p_conversation_id);
begin
  if p_guest_id is not null and not exists (
    select 1 from public.guests g where g.id = p_guest_id and g.tenant_id = v_conversation.tenant_id)
  then
    raise exception 'guest not found or not accessible' using errcode = 'PT404';
  end if;
  update public.conversations c
  set guest_id = p_guest_id,
      property_id = case when p_guest_id is null then null
                         else private.guest_property(c.tenant_id, p_guest_id) end
  where c.id = p_conversation_id;
end
$$;

-- The guest's stays: current first, then coming ones (soonest first), then past ones (latest).
create function public.conversation_reservations(p_conversation_id uuid)
returns table (
  reservation_id uuid,
  property_id uuid,
  property_name text,
  pms_reservation_id text,
  arrival_date date,
  departure_date date,
  status text,
  timing text
)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations;
begin
  select * into v_conversation from public.conversations c where c.id = p_conversation_id;
  perform private.assert_row_access(v_conversation.tenant_id, '{owner,admin,staff}', 'conversation', p_conversation_id::text);
  return query
  select x.id, x.property_id, x.property_name, x.pms_reservation_id, x.arrival_date, x.departure_date, x.status, x.timing
  from (
    select r.id, r.property_id, p.name as property_name, r.pms_reservation_id, r.arrival_date, r.departure_date,
           r.status::text as status,
           case
             when r.departure_date < (now() at time zone p.timezone)::date or r.status in ('checked_out', 'cancelled', 'no_show')
               then 'past'
             when r.arrival_date <= (now() at time zone p.timezone)::date then 'current'
             else 'upcoming'
           end as timing
    from public.reservations r
    join public.properties p on p.tenant_id = r.tenant_id and p.id = r.property_id
    where r.tenant_id = v_conversation.tenant_id and r.guest_id = v_conversation.guest_id
  ) x
  order by case x.timing when 'current' then 0 when 'upcoming' then 1 else 2 end,
           case when x.timing = 'upcoming' then x.arrival_date end asc,
           x.departure_date desc
  limit 100;
end
$$;

-- A template as a quick reply, filled from the guest's current, next or latest stay.
create function public.render_reply_template(p_conversation_id uuid, p_template_key text, p_language text default null)
returns table (body text, language text)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations;
  v_guest public.guests;
  v_reservation public.reservations;
  v_property public.properties;
  v_template public.message_templates;
begin
  select * into v_conversation from public.conversations c where c.id = p_conversation_id;
  perform private.assert_row_access(v_conversation.tenant_id, '{owner,admin,staff}', 'conversation', p_conversation_id::text);
  if p_language is not null and p_language !~ '^[a-z]{2}$' then
    raise exception 'language must be a two-letter code such as en or de' using errcode = 'invalid_parameter_value';
  end if;
  select * into v_guest from public.guests g where g.tenant_id = v_conversation.tenant_id and g.id = v_conversation.guest_id;
  select * into v_reservation from public.reservations r
  where r.tenant_id = v_conversation.tenant_id and r.guest_id = v_conversation.guest_id
  order by (r.departure_date >= current_date and r.status not in ('cancelled', 'no_show')) desc,
           case when r.departure_date >= current_date then r.arrival_date end asc nulls last,
           r.departure_date desc
  limit 1;
  select * into v_property from public.properties p
  where p.tenant_id = v_conversation.tenant_id
    and p.id = coalesce(v_reservation.property_id, v_conversation.property_id);
  v_template := private.choose_template(
    v_conversation.tenant_id, p_template_key,
    coalesce(p_language, v_guest.language, v_conversation.detected_language),
    (select t.default_language from public.tenants t where t.id = v_conversation.tenant_id));
  if v_template.id is null then
    raise exception 'template not found or not accessible' using errcode = 'PT404';
  end if;
  if v_guest.id is null and v_conversation.contact_name is not null then
    v_guest.full_name := v_conversation.contact_name;
  end if;
  return query select private.render_template(v_template.body, private.message_vars(v_reservation, v_property, v_guest)),
                      v_template.language;
end
$$;

-- ============================================================================================
-- Replying
-- ============================================================================================
-- A staff reply into message_logs, the queue every message goes through (retries,
-- dead-lettering, ticks, per-session pacing), ahead of the session's automations (priority 1).
-- The thread shows it at once and follows its ticks.
create function public.send_reply(
  p_conversation_id uuid,
  p_body text,
  p_confirm_opted_out boolean default false,
  p_reason text default null
) returns table (conversation_message_id bigint, message_log_id bigint)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations := private.conversation_for(p_conversation_id);
  v_body text := btrim(p_body);
  v_reason text := nullif(btrim(p_reason), '');
  v_opted_out boolean;
  v_last_confirmed bigint;
  v_log bigint;
  v_message bigint;
begin
  if v_body is null or length(v_body) not between 1 and 4096 then
    raise exception 'write a reply of 1 to 4096 characters' using errcode = 'invalid_parameter_value';
  end if;
  if v_conversation.phone_e164 is null then
    raise exception 'this chat has no phone number to reply to' using errcode = 'invalid_parameter_value';
  end if;
  v_opted_out := private.conversation_opted_out(v_conversation);
  if v_opted_out then
    select max(m.id) into v_last_confirmed from public.conversation_messages m
    where m.conversation_id = p_conversation_id and m.opt_out_override_reason is not null;
    if v_last_confirmed is not null and exists (
      select 1 from public.conversation_messages m
      where m.conversation_id = p_conversation_id and m.consent_change = 'opted_out' and m.id > v_last_confirmed)
    then
      raise exception 'the guest wrote STOP again after the last confirmed reply: they get no more messages'
        using errcode = 'PT409', hint = 'stopped_again';
    end if;
    if not coalesce(p_confirm_opted_out, false) or v_reason is null then
      raise exception 'the guest opted out of WhatsApp messages: confirm the reply and say why'
        using errcode = 'PT409', hint = 'confirm_opt_out';
    end if;
    if length(v_reason) > 500 then
      raise exception 'give a reason of at most 500 characters' using errcode = 'invalid_parameter_value';
    end if;
  end if;

  insert into public.message_logs
    (tenant_id, guest_id, template_key, to_phone, body, status, scheduled_for, next_attempt_at, dedupe_key,
     priority, sent_by, conversation_id, opt_out_override)
  values (v_conversation.tenant_id, v_conversation.guest_id, 'staff_reply', v_conversation.phone_e164, v_body, 'queued',
          now(), now(), 'reply:' || gen_random_uuid()::text, 1, (select auth.uid()), p_conversation_id, v_opted_out)
  returning id into v_log;

  insert into public.conversation_messages
    (tenant_id, conversation_id, direction, sender, sent_by, message_log_id, delivery_status, waha_session, body,
     opt_out_override_reason, sent_at)
  values (v_conversation.tenant_id, p_conversation_id, 'outbound', 'staff', (select auth.uid()), v_log, 'queued',
          v_conversation.waha_session, v_body, case when v_opted_out then left(v_reason, 500) end, now())
  returning id into v_message;

  update public.conversations c
  set last_message_at = greatest(c.last_message_at, now()), last_message_preview = private.message_preview(v_body, null)
  where c.id = p_conversation_id;

  return query select v_message, v_log;
end
$$;

create function public.set_inbox_settings(p_tenant_id uuid, p_guest_opt_in_by_message boolean) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  if p_guest_opt_in_by_message is null then
    raise exception 'say whether guests may opt back in by writing START (true or false)'
      using errcode = 'invalid_parameter_value';
  end if;
  update public.tenants t set guest_opt_in_by_message = p_guest_opt_in_by_message where t.id = p_tenant_id;
end
$$;

-- ============================================================================================
-- Privileges
-- ============================================================================================
revoke all on function public.list_conversations(uuid, text, uuid, text, uuid, boolean, integer, timestamptz) from public, anon;
revoke all on function public.inbox_unread_counts(uuid) from public, anon;
revoke all on function public.mark_conversation_read(uuid, bigint) from public, anon;
revoke all on function public.set_conversation_status(uuid, text) from public, anon;
revoke all on function public.assign_conversation(uuid, uuid) from public, anon;
revoke all on function public.add_conversation_note(uuid, text) from public, anon;
revoke all on function public.link_conversation_guest(uuid, uuid) from public, anon;
revoke all on function public.conversation_reservations(uuid) from public, anon;
revoke all on function public.render_reply_template(uuid, text, text) from public, anon;
revoke all on function public.send_reply(uuid, text, boolean, text) from public, anon;
revoke all on function public.set_inbox_settings(uuid, boolean) from public, anon;
grant execute on function public.list_conversations(uuid, text, uuid, text, uuid, boolean, integer, timestamptz) to authenticated, service_role;
grant execute on function public.inbox_unread_counts(uuid) to authenticated, service_role;
grant execute on function public.mark_conversation_read(uuid, bigint) to authenticated, service_role;
grant execute on function public.set_conversation_status(uuid, text) to authenticated, service_role;
grant execute on function public.assign_conversation(uuid, uuid) to authenticated, service_role;
grant execute on function public.add_conversation_note(uuid, text) to authenticated, service_role;
grant execute on function public.link_conversation_guest(uuid, uuid) to authenticated, service_role;
grant execute on function public.conversation_reservations(uuid) to authenticated, service_role;
grant execute on function public.render_reply_template(uuid, text, text) to authenticated, service_role;
grant execute on function public.send_reply(uuid, text, boolean, text) to authenticated, service_role;
grant execute on function public.set_inbox_settings(uuid, boolean) to authenticated, service_role;
