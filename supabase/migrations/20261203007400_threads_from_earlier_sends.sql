-- Threads start with what we already sent: the automated messages that went out in the last 90
-- days before the inbox existed appear in their guests' conversations (closed: nothing to
-- answer), as message_log_to_thread would have put them there. Later sends come through the
-- trigger. Guests' own earlier replies were never stored, so they cannot be shown.

with sends as (
  select m.id, m.tenant_id, m.to_phone, m.body, m.status, m.waha_message_id, m.sent_at,
         w.session_name, substr(m.to_phone, 2) || '@c.us' as chat_id,
         coalesce(m.guest_id, r.guest_id) as guest_id
  from public.message_logs m
  join public.waha_configurations w on w.tenant_id = m.tenant_id
  left join public.reservations r on r.tenant_id = m.tenant_id and r.id = m.reservation_id
  where m.status in ('sent', 'delivered', 'read')
    and m.waha_message_id is not null
    and m.to_phone ~ '^\+[1-9][0-9]{6,14}$'
    and m.sent_at > now() - interval '90 days'
    and m.conversation_id is null
),
latest as (
  select distinct on (s.tenant_id, s.session_name, s.chat_id) s.*
  from sends s
  order by s.tenant_id, s.session_name, s.chat_id, s.sent_at desc, s.id desc
),
opened as (
  insert into public.conversations as c
    (tenant_id, waha_session, chat_id, phone_e164, guest_id, property_id, status, last_message_at, last_message_preview)
  select l.tenant_id, l.session_name, l.chat_id, l.to_phone, l.guest_id,
         private.guest_property(l.tenant_id, l.guest_id), 'closed', l.sent_at,
         private.message_preview(l.body, null)
  from latest l
  on conflict (tenant_id, waha_session, chat_id) do nothing
  returning c.id, c.tenant_id, c.waha_session, c.chat_id
)
insert into public.conversation_messages
  (tenant_id, conversation_id, direction, sender, message_log_id, delivery_status, waha_message_id, waha_session,
   body, sent_at)
select s.tenant_id, o.id, 'outbound', 'automation', s.id, s.status, s.waha_message_id, s.session_name, s.body,
       s.sent_at
from sends s
join opened o on o.tenant_id = s.tenant_id and o.waha_session = s.session_name and o.chat_id = s.chat_id
on conflict do nothing;
