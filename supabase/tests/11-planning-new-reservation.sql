-- What a new reservation plans: one message per applicable active rule, at the right local time
-- (DST and quiet hours included), in the right language, or skipped with the reason.
begin;
select plan(38);

set local timezone = 'UTC';

insert into public.tenants (id, name, default_language) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A', 'en');

-- Properties: quiet hours 21-08 in Berlin; none (start = end) elsewhere, so "as soon as possible"
-- is exactly now(); and one whose quiet window surrounds this very moment.
insert into public.properties (id, tenant_id, name, timezone, pms_property_id, quiet_hours_start, quiet_hours_end) values
  ('20000000-0000-0000-0000-0000000000a1', '10000000-0000-0000-0000-00000000000a', 'Berlin', 'Europe/Berlin', 'BER', '21:00', '08:00'),
  ('20000000-0000-0000-0000-0000000000a2', '10000000-0000-0000-0000-00000000000a', 'Utc', 'UTC', 'UTC', '00:00', '00:00'),
  ('20000000-0000-0000-0000-0000000000a3', '10000000-0000-0000-0000-00000000000a', 'Berlin Night', 'Europe/Berlin', 'DST', '00:00', '00:00'),
  ('20000000-0000-0000-0000-0000000000a4', '10000000-0000-0000-0000-00000000000a', 'New York', 'America/New_York', 'NY', '00:00', '00:00'),
  ('20000000-0000-0000-0000-0000000000a5', '10000000-0000-0000-0000-00000000000a', 'Quiet Now', 'UTC', 'QUIET',
   (now() at time zone 'UTC')::time - interval '1 hour', (now() at time zone 'UTC')::time + interval '1 hour');

insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'en', 'Hello {{guest_first_name}}, see you on {{arrival_date}}.'),
  ('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'de', 'Hallo {{guest_first_name}}, bis zum {{arrival_date}}.'),
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'en',
   '{{guest_name}}: {{nights}} nights at {{property_name}} from {{arrival_date}} to {{departure_date}}, check-in {{check_in_time}}, check-out {{check_out_time}}, booking {{ reservation_id }}.'),
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'de', 'Hallo {{guest_first_name}}, {{nights}} Nächte im {{property_name}}.'),
  ('10000000-0000-0000-0000-00000000000a', 'review_request', 'fr', 'Merci {{guest_first_name}} !'),
  ('10000000-0000-0000-0000-00000000000a', 'cancellation_notice', 'en', 'Booking {{reservation_id}} is cancelled.');

insert into public.automation_rules (id, tenant_id, property_id, name, trigger, offset_days, send_at_local, template_key, is_active) values
  ('30000000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-00000000000a', null, 'conf', 'booking_confirmed', 0, null, 'booking_confirmation', true),
  ('30000000-0000-0000-0000-000000000002', '10000000-0000-0000-0000-00000000000a', null, 'pre', 'before_arrival', 3, '10:00', 'pre_arrival', true),
  ('30000000-0000-0000-0000-000000000003', '10000000-0000-0000-0000-00000000000a', null, 'arr', 'arrival_day', 0, '14:00', 'welcome', true),
  ('30000000-0000-0000-0000-000000000004', '10000000-0000-0000-0000-00000000000a', null, 'rev', 'after_departure', 1, null, 'review_request', true),
  ('30000000-0000-0000-0000-000000000005', '10000000-0000-0000-0000-00000000000a', null, 'canc', 'booking_cancelled', 0, null, 'cancellation_notice', true),
  ('30000000-0000-0000-0000-000000000006', '10000000-0000-0000-0000-00000000000a', null, 'off', 'before_arrival', 1, '09:00', 'pre_arrival', false),
  ('30000000-0000-0000-0000-000000000007', '10000000-0000-0000-0000-00000000000a', '20000000-0000-0000-0000-0000000000a1', 'late', 'before_arrival', 1, '23:30', 'pre_arrival', true),
  ('30000000-0000-0000-0000-000000000008', '10000000-0000-0000-0000-00000000000a', '20000000-0000-0000-0000-0000000000a3', 'dst-arr', 'arrival_day', 0, '02:30', 'pre_arrival', true),
  ('30000000-0000-0000-0000-000000000009', '10000000-0000-0000-0000-00000000000a', '20000000-0000-0000-0000-0000000000a3', 'dst-dep', 'after_departure', 0, '02:30', 'pre_arrival', true),
  ('30000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-00000000000a', '20000000-0000-0000-0000-0000000000a4', 'ny-arr', 'arrival_day', 0, '02:30', 'pre_arrival', true),
  ('30000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-00000000000a', '20000000-0000-0000-0000-0000000000a4', 'ny-dep', 'after_departure', 0, '01:30', 'pre_arrival', true);

insert into public.guests (tenant_id, full_name, phone_e164, language, whatsapp_opt_in, opted_out_at) values
  ('10000000-0000-0000-0000-00000000000a', 'Otto Out', '+4915100000009', 'de', false, now());

-- Reservations arrive the way the worker writes them.
create function pg_temp.book(p_id text, p_property text, p_arrival date, p_departure date,
                             p_guest jsonb, p_status text default 'confirmed')
returns uuid language sql as $$
  select reservation_id from internal.upsert_reservation_v1(
    '10000000-0000-0000-0000-00000000000a',
    jsonb_build_object('provider', 'generic', 'pms_reservation_id', p_id, 'pms_property_id', p_property,
      'status', p_status, 'arrival_date', p_arrival, 'departure_date', p_departure,
      'pms_updated_at', '2026-11-26T10:00:00Z', 'guest', p_guest),
    'req-' || p_id, '40000000-0000-0000-0000-000000000001')
$$;

-- The message of reservation p_id planned by the rule named p_rule.
create function pg_temp.msg(p_id text, p_rule text) returns public.message_logs
language sql as $$
  select m.* from public.message_logs m
  join public.reservations r on r.id = m.reservation_id
  join public.automation_rules a on a.id = m.rule_id
  where r.pms_reservation_id = p_id and a.name = p_rule
$$;

select pg_temp.book('R1', 'BER', '2035-06-10', '2035-06-13', '{"full_name": "Ada Lovelace", "phone": "+4915100000001", "language": "de"}');
select pg_temp.book('R2', 'UTC', '2035-07-01', '2035-07-02', '{"full_name": "Lovelace, Ada", "phone": "+4915100000002", "language": "fr"}');
select pg_temp.book('R3', 'DST', '2035-03-25', '2035-10-28', '{"full_name": "Dora", "phone": "+4915100000003", "language": "de"}');
select pg_temp.book('R4', 'NY', '2035-03-11', '2035-11-04', '{"full_name": "Nora", "phone": "+12125550104", "language": "en"}');
select pg_temp.book('R6', 'QUIET', '2035-07-01', '2035-07-02', '{"full_name": "Quinn", "phone": "+4915100000006", "language": "en"}');
select pg_temp.book('R7', 'BER', ((now() at time zone 'Europe/Berlin')::date + 1), ((now() at time zone 'Europe/Berlin')::date + 3),
                    '{"full_name": "Tom Tomorrow", "phone": "+4915100000007", "language": "en"}');
select pg_temp.book('R8', 'UTC', '2035-07-01', '2035-07-02', '{"full_name": "Nobody Nophone", "language": "en"}');
select pg_temp.book('R9', 'UTC', '2035-07-01', '2035-07-02', '{"full_name": "Otto Out", "phone": "+4915100000009"}');
select pg_temp.book('R10', 'UTC', '2035-07-01', '2035-07-02', '{"full_name": "Cecil", "phone": "+4915100000010"}', 'cancelled');

-- Which rows ----------------------------------------------------------------------------------
select set_eq(
  $$select a.name from public.message_logs m join public.automation_rules a on a.id = m.rule_id
    join public.reservations r on r.id = m.reservation_id where r.pms_reservation_id = 'R1'$$,
  array['conf', 'pre', 'arr', 'rev', 'late'],
  'a new reservation gets one row per active rule for all properties or its own; no cancellation notice'
);
select set_eq(
  $$select a.name from public.message_logs m join public.automation_rules a on a.id = m.rule_id
    join public.reservations r on r.id = m.reservation_id where r.pms_reservation_id = 'R3'$$,
  array['conf', 'pre', 'arr', 'rev', 'dst-arr', 'dst-dep'],
  'rules of another property do not apply'
);
select is((select count(*)::int from public.message_logs m where m.rule_id = '30000000-0000-0000-0000-000000000006'), 0,
  'an inactive rule plans nothing');
select is((pg_temp.msg('R1', 'pre')).dedupe_key,
  (select id::text from public.reservations where pms_reservation_id = 'R1') || ':30000000-0000-0000-0000-000000000002',
  'the dedupe key is <reservation id>:<rule id>');
select is(
  (select count(*)::int from (select m.reservation_id, m.rule_id from public.message_logs m
     group by 1, 2 having count(*) > 1) d),
  0, 'never two rows for the same reservation and rule');
select is((select count(*)::int from public.message_logs m join public.reservations r on r.id = m.reservation_id
           where r.pms_reservation_id = 'R10'), 0,
  'a reservation that arrives already cancelled plans nothing (no confirmation, no notice)');

-- When ------------------------------------------------------------------------------------------
select is((pg_temp.msg('R2', 'conf')).scheduled_for, now(),
  'the booking confirmation goes out as soon as possible');
select is((pg_temp.msg('R1', 'conf')).scheduled_for,
  private.after_quiet_hours(now(), 'Europe/Berlin', '21:00', '08:00'),
  'in Berlin: now, or the end of the quiet hours if it is night there now');
select is((pg_temp.msg('R6', 'conf')).scheduled_for, now() + interval '1 hour',
  'quiet hours defer an as-soon-as-possible message to their end');
select is((pg_temp.msg('R1', 'pre')).scheduled_for, '2035-06-07 08:00+00'::timestamptz,
  'before_arrival: 3 days before at 10:00 Berlin summer time');
select is((pg_temp.msg('R3', 'pre')).scheduled_for, '2035-03-22 09:00+00'::timestamptz,
  'before_arrival: 10:00 Berlin winter time');
select is((pg_temp.msg('R1', 'rev')).scheduled_for, '2035-06-14 09:00+00'::timestamptz,
  'after_departure without a time of day: the day after departure at check-out time');
select is((pg_temp.msg('R1', 'late')).scheduled_for, '2035-06-10 06:00+00'::timestamptz,
  '23:30 the evening before is inside quiet hours: deferred to 08:00 the next morning');
select is((pg_temp.msg('R3', 'dst-arr')).scheduled_for, '2035-03-25 01:00+00'::timestamptz,
  'Berlin 02:30 on the spring-forward day does not exist: sent when the gap ends (03:00 CEST)');
select is((pg_temp.msg('R3', 'dst-dep')).scheduled_for, '2035-10-28 00:30+00'::timestamptz,
  'Berlin 02:30 on the fall-back day happens twice: sent at the first (CEST)');
select is((pg_temp.msg('R4', 'ny-arr')).scheduled_for, '2035-03-11 07:00+00'::timestamptz,
  'New York 02:30 on the spring-forward day: 03:00 EDT');
select is((pg_temp.msg('R4', 'ny-dep')).scheduled_for, '2035-11-04 05:30+00'::timestamptz,
  'New York 01:30 on the fall-back day: the first, EDT');
select is(
  (select count(*)::int from public.message_logs where status = 'scheduled' and next_attempt_at <> scheduled_for),
  0, 'every scheduled row is claimable exactly at its send time');

-- In which language, and what it says -------------------------------------------------------------
select is((pg_temp.msg('R1', 'pre')).language, 'de', 'the guest''s language when a template exists in it');
select is((pg_temp.msg('R1', 'pre')).body, 'Hallo Ada, 3 Nächte im Berlin.', 'placeholders are filled in');
select is((pg_temp.msg('R2', 'conf')).language, 'en', 'else the tenant''s default language');
select is((pg_temp.msg('R2', 'conf')).body, 'Hello Ada, see you on 2035-07-01.',
  'a "Last, First" name greets the first name; dates are ISO');
select is((pg_temp.msg('R1', 'rev')).language, 'fr', 'else any language the template has');
select is((pg_temp.msg('R4', 'pre')).body,
  'Nora: 238 nights at New York from 2035-03-11 to 2035-11-04, check-in 15:00, check-out 11:00, booking R4.',
  'every placeholder renders (times HH:MI, the PMS reservation id, spaces inside braces)');
select is((pg_temp.msg('R1', 'pre')).to_phone, '+4915100000001', 'the guest''s phone is the recipient');
select results_eq(
  $$select language from private.choose_template('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'it', 'es')$$,
  $$values ('en')$$,
  'neither the guest''s nor the default language: English');
select results_eq(
  $$select language from private.choose_template('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'it', 'de')$$,
  $$values ('de')$$,
  'the tenant''s default language comes before English');

-- Skipped, with the reason ----------------------------------------------------------------------
select is((pg_temp.msg('R1', 'arr')).status, 'skipped', 'a rule whose template exists in no language is skipped');
select is((pg_temp.msg('R1', 'arr')).last_error, 'no message template "welcome" in any language', 'and says why');
select is((pg_temp.msg('R7', 'pre')).status, 'skipped', 'booked the day before arrival: the 3-days-before message is skipped');
select matches((pg_temp.msg('R7', 'pre')).last_error, '^send time \d{4}-\d\d-\d\d 10:00 Europe/Berlin had already passed',
  'with the local time that had passed');
select is((pg_temp.msg('R7', 'late')).status, 'scheduled', 'while messages still ahead are scheduled');
select results_eq(
  $$select distinct m.status::text, m.last_error from public.message_logs m
    join public.reservations r on r.id = m.reservation_id where r.pms_reservation_id = 'R8' and m.rule_id <> '30000000-0000-0000-0000-000000000003'$$,
  $$values ('skipped', 'guest has no phone number')$$,
  'a guest without a phone number: everything skipped with the reason');
select results_eq(
  $$select distinct m.status::text, m.last_error from public.message_logs m
    join public.reservations r on r.id = m.reservation_id where r.pms_reservation_id = 'R9' and m.rule_id <> '30000000-0000-0000-0000-000000000003'$$,
  $$values ('skipped', 'guest opted out of WhatsApp messages')$$,
  'a guest who opted out: everything skipped with the reason');

-- Traceability ------------------------------------------------------------------------------------
select is((pg_temp.msg('R1', 'pre')).request_id, 'req-R1', 'the webhook''s request id follows into the messages');
select is((pg_temp.msg('R1', 'pre')).job_id, '40000000-0000-0000-0000-000000000001'::uuid, 'and the sync job id');
select is((pg_temp.msg('R1', 'pre')).guest_id,
  (select guest_id from public.reservations where pms_reservation_id = 'R1'), 'rows know their guest');

-- A placeholder the renderer does not know would render empty: keep the two lists in step.
select is(
  (select array_agg(p order by p) from unnest(private.template_placeholders()) p
   where not (private.message_vars(null::public.reservations, null::public.properties, null::public.guests) ? p)),
  null, 'every allowed placeholder has a value');

select * from finish();
rollback;
