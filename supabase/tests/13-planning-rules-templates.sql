-- What a plan is made of changes: automation rules switched off, edited, added or deleted;
-- templates added or edited; a property's quiet hours or timezone. Waiting messages follow;
-- messages already sent and stays already over are left alone.
begin;
select plan(17);

set local timezone = 'UTC';

insert into public.tenants (id, name) values ('10000000-0000-0000-0000-00000000000a', 'Hotel A');
insert into public.properties (id, tenant_id, name, timezone, pms_property_id, quiet_hours_start, quiet_hours_end) values
  ('20000000-0000-0000-0000-0000000000a1', '10000000-0000-0000-0000-00000000000a', 'Berlin', 'Europe/Berlin', 'BER', '21:00', '08:00');
insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'en', 'Confirmed'),
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'en', 'See you on {{arrival_date}}');
insert into public.automation_rules (id, tenant_id, name, trigger, offset_days, send_at_local, template_key) values
  ('30000000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-00000000000a', 'conf', 'booking_confirmed', 0, null, 'booking_confirmation'),
  ('30000000-0000-0000-0000-000000000002', '10000000-0000-0000-0000-00000000000a', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival'),
  ('30000000-0000-0000-0000-000000000003', '10000000-0000-0000-0000-00000000000a', 'arr', 'arrival_day', 0, '14:00', 'welcome');

select internal.upsert_reservation_v1('10000000-0000-0000-0000-00000000000a',
  '{"provider": "generic", "pms_reservation_id": "R1", "pms_property_id": "BER", "status": "confirmed",
    "arrival_date": "2035-06-10", "departure_date": "2035-06-13", "pms_updated_at": "2026-11-26T10:00:00Z",
    "guest": {"full_name": "Ada", "phone": "+4915100000001", "language": "en"}}');
select internal.upsert_reservation_v1('10000000-0000-0000-0000-00000000000a',
  '{"provider": "generic", "pms_reservation_id": "PAST", "pms_property_id": "BER", "status": "checked_out",
    "arrival_date": "2026-01-10", "departure_date": "2026-01-12", "pms_updated_at": "2026-11-26T10:00:00Z",
    "guest": {"full_name": "Paul", "phone": "+4915100000002", "language": "en"}}');

create function pg_temp.msg(p_reservation text, p_rule text) returns public.message_logs
language sql as $$
  select m.* from public.message_logs m join public.reservations r on r.id = m.reservation_id
  where r.pms_reservation_id = p_reservation and m.dedupe_key = r.id::text || ':' || (
    select a.id::text from public.automation_rules a where a.name = p_rule)
$$;

-- Rules ---------------------------------------------------------------------------------------------
update public.automation_rules set is_active = false where name = 'pre';
select results_eq($$select status::text, last_error from public.message_logs m where m.id = (pg_temp.msg('R1', 'pre')).id$$,
  $$values ('cancelled', 'the automation rule was removed or deactivated')$$,
  'switching a rule off cancels its waiting messages');
update public.automation_rules set is_active = true where name = 'pre';
select results_eq($$select status::text, scheduled_for from public.message_logs m where m.id = (pg_temp.msg('R1', 'pre')).id$$,
  $$values ('scheduled', '2035-06-07 08:00+00'::timestamptz)$$,
  'switching it back on plans them again');
update public.automation_rules set send_at_local = '09:00', offset_days = 2 where name = 'pre';
select is((pg_temp.msg('R1', 'pre')).scheduled_for, '2035-06-08 07:00+00'::timestamptz,
  'editing a rule moves its waiting messages');
select is((select count(*)::int from public.message_logs m join public.reservations r on r.id = m.reservation_id
           where r.pms_reservation_id = 'PAST'), 3,
  'a stay already over is not re-planned (its three rows from import, nothing more)');

insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key) values
  ('10000000-0000-0000-0000-00000000000a', 'early', 'before_arrival', 14, '12:00', 'pre_arrival'),
  ('10000000-0000-0000-0000-00000000000a', 'conf2', 'booking_confirmed', 0, null, 'booking_confirmation');
select is((pg_temp.msg('R1', 'early')).scheduled_for, '2035-05-27 10:00+00'::timestamptz,
  'a new rule plans its message for coming stays');
select is(pg_temp.msg('R1', 'conf2'), null::public.message_logs,
  'a new booking-confirmation rule does not confirm bookings made before it existed');

update public.message_logs set status = 'sending', attempts = 1, lease_owner = 'w', lease_expires_at = now() + interval '1 minute'
where id = (pg_temp.msg('R1', 'conf')).id;
update public.message_logs set status = 'sent', waha_message_id = 'wamid-1', lease_owner = null, lease_expires_at = null
where id = (pg_temp.msg('R1', 'conf')).id;
create temporary table early_row on commit drop as select (pg_temp.msg('R1', 'early')).id;
create temporary table conf_row on commit drop as select (pg_temp.msg('R1', 'conf')).id;
delete from public.automation_rules where name in ('early', 'conf');
select results_eq($$select m.status::text, m.last_error, m.rule_id from public.message_logs m where m.id = (select id from early_row)$$,
  $$values ('cancelled', 'the automation rule was removed or deactivated', null::uuid)$$,
  'deleting a rule cancels its waiting messages (and they lose the link to it)');
select is((select m.status::text from public.message_logs m where m.id = (select id from conf_row)), 'sent',
  'its sent messages stay as history');

-- A property-specific rule moved to another property no longer applies -----------------------------
insert into public.properties (id, tenant_id, name, timezone, pms_property_id) values
  ('20000000-0000-0000-0000-0000000000a2', '10000000-0000-0000-0000-00000000000a', 'Munich', 'Europe/Berlin', 'MUC');
update public.automation_rules set property_id = '20000000-0000-0000-0000-0000000000a2' where name = 'pre';
select results_eq($$select status::text, last_error from public.message_logs m where m.id = (pg_temp.msg('R1', 'pre')).id$$,
  $$values ('cancelled', 'the automation rule no longer applies to this reservation')$$,
  'a rule narrowed to another property cancels the messages of this one');
update public.automation_rules set property_id = null where name = 'pre';
select is((pg_temp.msg('R1', 'pre')).status, 'scheduled', 'and widened again, plans them again');

-- Templates -------------------------------------------------------------------------------------------
select is((pg_temp.msg('R1', 'arr')).status, 'skipped', 'a rule without any template is skipped');
insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'welcome', 'en', 'Welcome, {{guest_first_name}}!');
select results_eq($$select status::text, body, language, last_error from public.message_logs m where m.id = (pg_temp.msg('R1', 'arr')).id$$,
  $$values ('scheduled', 'Welcome, Ada!', 'en', null::text)$$,
  'adding the template brings the skipped message back, rendered');
update public.message_templates set body = 'Welcome to Berlin, {{guest_first_name}}!' where key = 'welcome';
select is((pg_temp.msg('R1', 'arr')).body, 'Welcome to Berlin, Ada!', 'editing a template updates the waiting message''s text');
delete from public.message_templates where key = 'welcome';
select results_eq($$select status::text, last_error from public.message_logs m where m.id = (pg_temp.msg('R1', 'arr')).id$$,
  $$values ('skipped', 'no message template "welcome" in any language')$$,
  'deleting the last template of a key skips its waiting messages');

-- The property --------------------------------------------------------------------------------------------
update public.properties set quiet_hours_start = '09:00', quiet_hours_end = '12:00' where pms_property_id = 'BER';
select is((pg_temp.msg('R1', 'pre')).scheduled_for, '2035-06-08 10:00+00'::timestamptz,
  'new quiet hours (09-12) defer the 09:00 message to 12:00');
update public.properties set timezone = 'America/New_York', quiet_hours_start = '21:00', quiet_hours_end = '08:00'
where pms_property_id = 'BER';
select is((pg_temp.msg('R1', 'pre')).scheduled_for, '2035-06-08 13:00+00'::timestamptz,
  'a corrected timezone moves the messages to 09:00 New York time');
select is(
  (select count(*)::int from public.message_logs where status = 'scheduled' and next_attempt_at <> scheduled_for),
  0, 'every scheduled row is claimable exactly at its send time');

select * from finish();
rollback;
