-- A reservation changes: messages not sent yet follow it (new dates, another property, another
-- guest, cancellation and back); messages already sent stay as they are; nothing is duplicated
-- and the same change twice changes nothing.
begin;
select plan(41);

set local timezone = 'UTC';

insert into public.tenants (id, name) values ('10000000-0000-0000-0000-00000000000a', 'Hotel A');
insert into public.properties (id, tenant_id, name, timezone, pms_property_id, quiet_hours_start, quiet_hours_end) values
  ('20000000-0000-0000-0000-0000000000a1', '10000000-0000-0000-0000-00000000000a', 'Berlin', 'Europe/Berlin', 'BER', '21:00', '08:00'),
  ('20000000-0000-0000-0000-0000000000a2', '10000000-0000-0000-0000-00000000000a', 'New York', 'America/New_York', 'NY', '21:00', '08:00');
insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'en', 'Confirmed: {{arrival_date}}'),
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'en', 'See you on {{arrival_date}}'),
  ('10000000-0000-0000-0000-00000000000a', 'review_request', 'en', 'How was it?'),
  ('10000000-0000-0000-0000-00000000000a', 'cancellation_notice', 'en', 'Cancelled: {{reservation_id}}');
insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key) values
  ('10000000-0000-0000-0000-00000000000a', 'conf', 'booking_confirmed', 0, null, 'booking_confirmation'),
  ('10000000-0000-0000-0000-00000000000a', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival'),
  ('10000000-0000-0000-0000-00000000000a', 'rev', 'after_departure', 1, '11:00', 'review_request'),
  ('10000000-0000-0000-0000-00000000000a', 'canc', 'booking_cancelled', 0, null, 'cancellation_notice');

-- Each save is a newer PMS version, with its own request id.
create temporary sequence version;
create function pg_temp.save(p_status text, p_property text, p_arrival date, p_departure date,
                             p_phone text, p_request text)
returns text language sql as $$
  select outcome from internal.upsert_reservation_v1(
    '10000000-0000-0000-0000-00000000000a',
    jsonb_build_object('provider', 'generic', 'pms_reservation_id', 'R1', 'pms_property_id', p_property,
      'status', p_status, 'arrival_date', p_arrival, 'departure_date', p_departure,
      'pms_updated_at', '2026-11-26T00:00:00Z'::timestamptz + nextval('pg_temp.version') * interval '1 minute',
      'guest', jsonb_build_object('full_name', 'Ada', 'phone', p_phone, 'language', 'en')),
    p_request)
$$;

create function pg_temp.msg(p_rule text) returns public.message_logs
language sql as $$
  select m.* from public.message_logs m join public.automation_rules a on a.id = m.rule_id where a.name = p_rule
$$;

-- Every row's physical version: any write to any row changes it.
create function pg_temp.versions() returns text
language sql as $$
  select string_agg(m.id || '@' || m.ctid::text, ',' order by m.id) from public.message_logs m
$$;

create function pg_temp.mark_sent(p_rule text) returns void
language sql as $$
  update public.message_logs set status = 'sending', attempts = 1, lease_owner = 'test', lease_expires_at = now() + interval '1 minute'
  where id = (pg_temp.msg(p_rule)).id;
  update public.message_logs set status = 'sent', waha_message_id = 'wamid-' || p_rule, sent_at = now(), lease_owner = null, lease_expires_at = null
  where id = (pg_temp.msg(p_rule)).id;
$$;

create function pg_temp.mark_failed(p_rule text, p_retry_at timestamptz) returns void
language sql as $$
  update public.message_logs set status = 'sending', attempts = 2, lease_owner = 'test', lease_expires_at = now() + interval '1 minute'
  where id = (pg_temp.msg(p_rule)).id;
  update public.message_logs set status = 'failed', next_attempt_at = p_retry_at, last_error = 'WAHA answered 503', lease_owner = null, lease_expires_at = null
  where id = (pg_temp.msg(p_rule)).id;
$$;

select pg_temp.save('confirmed', 'BER', '2035-06-10', '2035-06-13', '+4915100000001', 'req-1');
select pg_temp.mark_sent('conf');
select pg_temp.mark_failed('rev', '2035-01-01 00:00+00');

-- New dates ----------------------------------------------------------------------------------------
create temporary table before_move on commit drop as select * from public.message_logs;
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-25', '+4915100000001', 'req-2');

select is((pg_temp.msg('pre')).scheduled_for, '2035-06-17 08:00+00'::timestamptz, 'new dates move the pre-arrival message');
select is((pg_temp.msg('pre')).next_attempt_at, '2035-06-17 08:00+00'::timestamptz, 'and its claim time with it');
select is((pg_temp.msg('pre')).body, 'See you on 2035-06-20', 'its text shows the new date');
select is((pg_temp.msg('pre')).request_id, 'req-2', 'the change''s request id follows into the moved message');
select row_eq($$select m.* from public.message_logs m join public.automation_rules a on a.id = m.rule_id where a.name = 'conf'$$,
  (select b from before_move b join public.automation_rules a on a.id = b.rule_id where a.name = 'conf'),
  'a message already sent stays exactly as it was');
select is((pg_temp.msg('rev')).scheduled_for, '2035-06-26 09:00+00'::timestamptz, 'a failed message moves to its new time');
select results_eq($$select status::text, attempts, last_error from public.message_logs m where m.id = (pg_temp.msg('rev')).id$$,
  $$values ('scheduled', 0, null::text)$$, 'as a fresh plan: scheduled, no attempts, no error');
select is((select count(*)::int from public.message_logs), 3, 'no new rows: the same rows moved');

-- A change that does not concern a retrying message leaves its retry alone ----------------------
select pg_temp.mark_failed('pre', '2035-01-02 00:00+00');
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-26', '+4915100000001', 'req-3');
select results_eq($$select status::text, next_attempt_at, last_error, request_id from public.message_logs m where m.id = (pg_temp.msg('pre')).id$$,
  $$values ('failed', '2035-01-02 00:00+00'::timestamptz, 'WAHA answered 503', 'req-2')$$,
  'a new departure date leaves the pre-arrival message retrying as it was');
select is((pg_temp.msg('rev')).scheduled_for, '2035-06-27 09:00+00'::timestamptz, 'while the review request moves');

-- Idempotency ---------------------------------------------------------------------------------------
create temporary table snap (v text) on commit drop;
insert into snap select pg_temp.versions();
select private.plan_messages(array(select id from public.reservations), false, false, true);
select is(pg_temp.versions(), (select v from snap), 'planning again without a change writes nothing');
update public.reservations set arrival_date = arrival_date, status = status;
select is(pg_temp.versions(), (select v from snap), 'an update that changes nothing writes nothing');
update public.reservations set departure_date = '2035-06-28';
delete from snap; insert into snap select pg_temp.versions();
update public.reservations set departure_date = '2035-06-28';
select is(pg_temp.versions(), (select v from snap), 'the same update twice: the second writes nothing');
select is(pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-4'), 'updated', 'a PMS update with the same data');
select is(pg_temp.versions(), (select v from snap), 'writes nothing either');

-- Another property, another guest ---------------------------------------------------------------
select pg_temp.save('confirmed', 'NY', '2035-06-20', '2035-06-28', '+4915100000001', 'req-5');
select is((pg_temp.msg('pre')).scheduled_for, '2035-06-17 14:00+00'::timestamptz,
  'moved to a hotel in New York: 10:00 there');
select pg_temp.save('confirmed', 'NY', '2035-06-20', '2035-06-28', '+4915100000002', 'req-6');
select results_eq($$select to_phone, guest_id from public.message_logs m where m.id = (pg_temp.msg('pre')).id$$,
  $$select '+4915100000002', guest_id from public.reservations$$,
  'another guest on the reservation: pending messages go to them');
select is((pg_temp.msg('conf')).to_phone, '+4915100000001', 'the sent one still shows who got it');
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-7');

-- Too late after a change -------------------------------------------------------------------------
select pg_temp.save('confirmed', 'BER', (now() at time zone 'Europe/Berlin')::date + 1,
                    (now() at time zone 'Europe/Berlin')::date + 2, '+4915100000001', 'req-8');
select is((pg_temp.msg('pre')).status, 'skipped', 'arrival moved to tomorrow: the 3-days-before message is too late');
select matches((pg_temp.msg('pre')).last_error, 'had already passed', 'and says so');
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-9');
select results_eq($$select status::text, scheduled_for, last_error from public.message_logs m where m.id = (pg_temp.msg('pre')).id$$,
  $$values ('scheduled', '2035-06-17 08:00+00'::timestamptz, null::text)$$,
  'moved back to June: planned again');

-- Cancellation ------------------------------------------------------------------------------------
select pg_temp.save('cancelled', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-10');
select results_eq($$select status::text, last_error, request_id from public.message_logs m where m.id = (pg_temp.msg('pre')).id$$,
  $$values ('cancelled', 'reservation was cancelled', 'req-10')$$,
  'cancelling the reservation cancels what was not sent, with the reason and the request id');
select is((pg_temp.msg('rev')).status, 'cancelled', 'every message not sent');
select is((pg_temp.msg('conf')).status, 'sent', 'a sent message stays sent');
select results_eq($$select status::text, scheduled_for, body, request_id from public.message_logs m where m.id = (pg_temp.msg('canc')).id$$,
  $$values ('scheduled', private.after_quiet_hours(now(), 'Europe/Berlin', '21:00', '08:00'), 'Cancelled: R1', 'req-10')$$,
  'the cancellation notice is planned as soon as allowed');
delete from snap; insert into snap select pg_temp.versions();
select pg_temp.save('cancelled', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-11');
select is(pg_temp.versions(), (select v from snap), 'the cancellation arriving twice changes nothing');

-- Un-cancelled, cancelled again, no-show ----------------------------------------------------------
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-12');
select results_eq($$select status::text, scheduled_for, last_error, request_id from public.message_logs m where m.id = (pg_temp.msg('pre')).id$$,
  $$values ('scheduled', '2035-06-17 08:00+00'::timestamptz, null::text, 'req-12')$$,
  'un-cancelling revives the messages at their times');
select is((pg_temp.msg('rev')).status, 'scheduled', 'all of them');
select results_eq($$select status::text, last_error from public.message_logs m where m.id = (pg_temp.msg('canc')).id$$,
  $$values ('cancelled', 'reservation is no longer cancelled')$$,
  'and withdraws the cancellation notice if it had not gone out');
select is((pg_temp.msg('conf')).status, 'sent', 'the confirmation already sent is not sent again');

select pg_temp.save('cancelled', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-13');
select is((pg_temp.msg('canc')).status, 'scheduled', 'cancelled again: the notice is planned again');
select is((select count(*)::int from public.message_logs m join public.automation_rules a on a.id = m.rule_id where a.name = 'canc'),
  1, 'still one cancellation notice row');
select pg_temp.mark_sent('canc');
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-14');
select is((pg_temp.msg('canc')).status, 'sent', 'a notice already sent stays sent when the booking comes back');
select pg_temp.save('cancelled', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-15');
select is((pg_temp.msg('canc')).status, 'sent', 'and is not sent a second time on the next cancellation');

select pg_temp.save('no_show', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-16');
select results_eq($$select status::text, last_error from public.message_logs m where m.id = (pg_temp.msg('rev')).id$$,
  $$values ('cancelled', 'reservation is a no-show')$$,
  'a no-show cancels what was not sent');

-- The booking confirmation is sent once, at creation, not on later changes -----------------------
select pg_temp.save('confirmed', 'BER', '2035-06-20', '2035-06-28', '+4915100000001', 'req-17');
select is((select count(*)::int from public.message_logs m join public.automation_rules a on a.id = m.rule_id where a.name = 'conf'),
  1, 'one confirmation row, ever');
select is(
  (select count(*)::int from public.message_logs m join public.reservations r on r.id = m.reservation_id
   group by m.reservation_id, m.rule_id order by 1 desc limit 1),
  1, 'never two rows for one rule of one reservation');
select is(
  (select count(*)::int from public.message_logs where status = 'scheduled' and next_attempt_at <> scheduled_for),
  0, 'every scheduled row is claimable exactly at its send time');

-- The booking confirmation of a reservation created straight into a stay already over ------------
select is((select outcome from internal.upsert_reservation_v1('10000000-0000-0000-0000-00000000000a',
  '{"provider": "generic", "pms_reservation_id": "OLD", "pms_property_id": "BER", "status": "checked_out",
    "arrival_date": "2026-01-10", "departure_date": "2026-01-12", "pms_updated_at": "2026-01-12T10:00:00Z",
    "guest": {"full_name": "Olga", "phone": "+4915100000099"}}')), 'created', 'a past stay imported by a sync');
select results_eq(
  $$select a.name, m.status::text from public.message_logs m join public.automation_rules a on a.id = m.rule_id
    join public.reservations r on r.id = m.reservation_id where r.pms_reservation_id = 'OLD' order by a.name$$,
  $$values ('conf', 'skipped'), ('pre', 'skipped'), ('rev', 'skipped')$$,
  'sends nothing: everything is too late or over');
select is((select m.last_error from public.message_logs m join public.automation_rules a on a.id = m.rule_id
           join public.reservations r on r.id = m.reservation_id where r.pms_reservation_id = 'OLD' and a.name = 'conf'),
  'the stay is already over', 'the confirmation says why');

select * from finish();
rollback;
