-- The guest side: a STOP opts the guest out and cancels what was waiting for them; a phone number
-- added later brings skipped messages back; a phone number removed skips them.
begin;
select plan(18);

set local timezone = 'UTC';

insert into public.tenants (id, name) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A'),
  ('10000000-0000-0000-0000-00000000000b', 'Hotel B');
insert into public.properties (tenant_id, name, timezone, pms_property_id, quiet_hours_start, quiet_hours_end) values
  ('10000000-0000-0000-0000-00000000000a', 'A', 'Europe/Berlin', 'A', '21:00', '08:00'),
  ('10000000-0000-0000-0000-00000000000b', 'B', 'Europe/Berlin', 'B', '21:00', '08:00');
insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'en', 'See you, {{guest_first_name}}'),
  ('10000000-0000-0000-0000-00000000000b', 'pre_arrival', 'en', 'See you, {{guest_first_name}}');
insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key) values
  ('10000000-0000-0000-0000-00000000000a', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival'),
  ('10000000-0000-0000-0000-00000000000a', 'arr', 'arrival_day', 0, '10:00', 'pre_arrival'),
  ('10000000-0000-0000-0000-00000000000b', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival');

create function pg_temp.book(p_tenant uuid, p_property text, p_id text, p_guest jsonb) returns uuid
language sql as $$
  select reservation_id from internal.upsert_reservation_v1(p_tenant,
    jsonb_build_object('provider', 'generic', 'pms_reservation_id', p_id, 'pms_property_id', p_property,
      'status', 'confirmed', 'arrival_date', '2035-06-10', 'departure_date', '2035-06-13',
      'pms_updated_at', '2026-11-26T10:00:00Z', 'guest', p_guest))
$$;

create function pg_temp.statuses(p_id text) returns text[]
language sql as $$
  select array_agg(m.status::text order by a.name) from public.message_logs m
  join public.reservations r on r.id = m.reservation_id join public.automation_rules a on a.id = m.rule_id
  where r.pms_reservation_id = p_id
$$;

select pg_temp.book('10000000-0000-0000-0000-00000000000a', 'A', 'R1', '{"full_name": "Ada", "phone": "+4915100000001"}');
select pg_temp.book('10000000-0000-0000-0000-00000000000a', 'A', 'R2', '{"full_name": "Ada", "phone": "+4915100000001"}');
select pg_temp.book('10000000-0000-0000-0000-00000000000b', 'B', 'RB', '{"full_name": "Ada", "phone": "+4915100000001"}');
select pg_temp.book('10000000-0000-0000-0000-00000000000a', 'A', 'R3', '{"full_name": "Bea"}');

-- A sent message, to see it survive the opt-out.
update public.message_logs m set status = 'sending', attempts = 1, lease_owner = 'w', lease_expires_at = now() + interval '1 minute'
from public.reservations r, public.automation_rules a
where r.id = m.reservation_id and r.pms_reservation_id = 'R2' and a.id = m.rule_id and a.name = 'pre';
update public.message_logs set status = 'sent', waha_message_id = 'wamid-1', lease_owner = null, lease_expires_at = null
where status = 'sending';

-- STOP ------------------------------------------------------------------------------------------------
select is(internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000a', '+4915100000001', 'replied STOP'), true,
  'a guest who replies STOP is opted out');
select results_eq(
  $$select whatsapp_opt_in, opt_out_reason, opted_out_at is not null from public.guests
    where tenant_id = '10000000-0000-0000-0000-00000000000a' and phone_e164 = '+4915100000001'$$,
  $$values (false, 'replied STOP', true)$$,
  'with the reason and the time');
select is(pg_temp.statuses('R1'), array['cancelled', 'cancelled'], 'everything waiting for them is cancelled');
select is(pg_temp.statuses('R2'), array['cancelled', 'sent'], 'on every reservation; what was sent stays sent');
select is(
  (select distinct last_error from public.message_logs where status = 'cancelled'),
  'guest opted out of WhatsApp messages', 'the reason is on the message');
select is(pg_temp.statuses('RB'), array['scheduled'], 'the same number at another hotel is another guest');
select is(internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000a', '+4915100000001', 'again'), false,
  'a second STOP changes nothing');
select is(internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000a', '+4915199999999', null), false,
  'an unknown number opts nobody out');
select is(internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000b', '4915100000001@c.us', null), true,
  'the WhatsApp chat id form of the number is understood');
select is(pg_temp.statuses('RB'), array['cancelled'], 'and cancels that guest''s messages');

-- A PMS update for the opted-out guest does not bring anything back ----------------------------------
update public.reservations set arrival_date = '2035-06-11' where pms_reservation_id = 'R1';
select results_eq(
  $$select distinct m.status::text, m.last_error from public.message_logs m join public.reservations r on r.id = m.reservation_id
    where r.pms_reservation_id = 'R1'$$,
  $$values ('cancelled', 'guest opted out of WhatsApp messages')$$,
  'new dates for an opted-out guest: still cancelled, for the same reason');
select pg_temp.book('10000000-0000-0000-0000-00000000000a', 'A', 'R4', '{"full_name": "Ada", "phone": "+4915100000001"}');
select results_eq(
  $$select distinct m.status::text, m.last_error from public.message_logs m join public.reservations r on r.id = m.reservation_id
    where r.pms_reservation_id = 'R4'$$,
  $$values ('skipped', 'guest opted out of WhatsApp messages')$$,
  'a new booking of an opted-out guest is planned as skipped');

-- Opting back in (staff, after the guest asked) --------------------------------------------------------
update public.guests set whatsapp_opt_in = true
where tenant_id = '10000000-0000-0000-0000-00000000000a' and phone_e164 = '+4915100000001';
select is(pg_temp.statuses('R1'), array['scheduled', 'scheduled'], 'opting back in plans the waiting messages again');
select is(pg_temp.statuses('R2'), array['scheduled', 'sent'], 'without sending again what was sent');

-- Phone numbers ---------------------------------------------------------------------------------------
select is(pg_temp.statuses('R3'), array['skipped', 'skipped'], 'a guest without a phone number: skipped');
update public.guests set phone_e164 = '+4915100000003' where full_name = 'Bea';
select results_eq(
  $$select distinct m.status::text, m.to_phone, m.last_error from public.message_logs m join public.reservations r on r.id = m.reservation_id
    where r.pms_reservation_id = 'R3'$$,
  $$values ('scheduled', '+4915100000003', null::text)$$,
  'the number added later: planned again, to that number');
update public.guests set phone_e164 = null where full_name = 'Bea';
select results_eq(
  $$select distinct m.status::text, m.last_error from public.message_logs m join public.reservations r on r.id = m.reservation_id
    where r.pms_reservation_id = 'R3'$$,
  $$values ('skipped', 'guest has no phone number')$$,
  'the number removed: skipped again');
update public.guests set full_name = 'Beatrice', phone_e164 = '+4915100000003' where full_name = 'Bea';
select is(
  (select distinct m.body from public.message_logs m join public.reservations r on r.id = m.reservation_id
   where r.pms_reservation_id = 'R3'),
  'See you, Beatrice', 'a corrected name shows in the waiting messages');

select * from finish();
rollback;
