-- prepare_messages_v1: right after a claim, the worker gets the messages to send now, rendered
-- with the guest's current data; the ones that can no longer go out are settled with the reason.
begin;
select plan(31);

set local timezone = 'UTC';

insert into public.tenants (id, name, default_language) values ('10000000-0000-0000-0000-00000000000a', 'Hotel A', 'en');
insert into public.waha_configurations (tenant_id, base_url, session_status)
values ('10000000-0000-0000-0000-00000000000a', 'http://127.0.0.1:9', 'WORKING');
-- No quiet hours at U; at Q it is quiet hours right now.
insert into public.properties (tenant_id, name, timezone, pms_property_id, quiet_hours_start, quiet_hours_end) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel U', 'UTC', 'U', '00:00', '00:00'),
  ('10000000-0000-0000-0000-00000000000a', 'Hotel Q', 'UTC', 'Q',
   (now() at time zone 'UTC')::time - interval '1 hour', (now() at time zone 'UTC')::time + interval '1 hour');
insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'en', 'Hello {{guest_first_name}}, {{property_name}} awaits you.'),
  ('10000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'de', 'Hallo {{guest_first_name}}, das {{property_name}} erwartet Sie.'),
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'en', 'Soon!'),
  ('10000000-0000-0000-0000-00000000000a', 'welcome', 'en', 'Welcome!'),
  ('10000000-0000-0000-0000-00000000000a', 'cancellation_notice', 'en', 'Cancelled.');
insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key) values
  ('10000000-0000-0000-0000-00000000000a', 'conf', 'booking_confirmed', 0, null, 'booking_confirmation'),
  ('10000000-0000-0000-0000-00000000000a', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival'),
  ('10000000-0000-0000-0000-00000000000a', 'arr', 'arrival_day', 0, '10:00', 'welcome'),
  ('10000000-0000-0000-0000-00000000000a', 'canc', 'booking_cancelled', 0, null, 'cancellation_notice');

create temporary sequence version;
create function pg_temp.save(p_id text, p_property text, p_status text, p_guest jsonb,
                             p_arrival date default '2035-06-10') returns uuid
language sql as $$
  select reservation_id from internal.upsert_reservation_v1('10000000-0000-0000-0000-00000000000a',
    jsonb_build_object('provider', 'generic', 'pms_reservation_id', p_id, 'pms_property_id', p_property,
      'status', p_status, 'arrival_date', p_arrival, 'departure_date', p_arrival + 3,
      'pms_updated_at', '2026-11-26T00:00:00Z'::timestamptz + nextval('pg_temp.version') * interval '1 minute',
      'guest', p_guest))
$$;

create function pg_temp.msg(p_id text, p_rule text) returns public.message_logs
language sql as $$
  select m.* from public.message_logs m join public.reservations r on r.id = m.reservation_id
  join public.automation_rules a on a.id = m.rule_id where r.pms_reservation_id = p_id and a.name = p_rule
$$;

-- Claimed by worker w1 (as claim_messages_v1 leaves a row).
create function pg_temp.hold(p_id bigint) returns void
language sql as $$
  update public.message_logs set status = 'sending', attempts = attempts + 1, lease_owner = 'w1',
    lease_expires_at = now() + interval '2 minutes'
  where id = p_id
$$;

create temporary table returned (id bigint, to_phone text, body text, language text) on commit drop;

select pg_temp.save('R1', 'U', 'confirmed', '{"full_name": "Ada Lovelace", "phone": "+4915100000001", "language": "en"}');
select pg_temp.save('R2', 'U', 'confirmed', '{"full_name": "Bob", "phone": "+4915100000002"}');
select pg_temp.save('R3', 'U', 'confirmed', '{"full_name": "Cy", "phone": "+4915100000003"}');
select pg_temp.save('R4', 'U', 'confirmed', '{"full_name": "Di", "phone": "+4915100000004"}');
select pg_temp.save('R5', 'U', 'confirmed', '{"full_name": "Ed", "phone": "+4915100000005"}');
select pg_temp.save('R6', 'Q', 'confirmed', '{"full_name": "Flo", "phone": "+4915100000006"}');
select pg_temp.save('R7', 'U', 'confirmed', '{"full_name": "Gil", "phone": "+4915100000007"}');
insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status) values
  ('10000000-0000-0000-0000-00000000000a', 'manual', 'manual:1', '+4915100000011', 'Your taxi is here.', 'queued'),
  ('10000000-0000-0000-0000-00000000000a', 'manual', 'manual:2', '+4915100000012', '  ', 'queued');

-- The worker claims what is due: every booking confirmation at U (at Q it waits for the quiet
-- hours to end) and the two hand-written messages.
create temporary table claimed on commit drop as
select id from internal.claim_messages_v1('w1', 100, '2 minutes', 100);
select is((select count(*)::int from claimed), 8, 'the worker claims the due messages');
select is((pg_temp.msg('R6', 'conf')).scheduled_for, now() + interval '1 hour', 'the one in quiet hours was not due');

-- Between claim and prepare, the world moves on.
update public.guests set full_name = 'Ada Byron', phone_e164 = '+4915100000099', language = 'de' where full_name = 'Ada Lovelace';
select internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000a', '+4915100000002', 'STOP');
update public.guests set phone_e164 = null where full_name = 'Cy';
select pg_temp.save('R4', 'U', 'cancelled', '{"full_name": "Di", "phone": "+4915100000004"}');
select pg_temp.save('R5', 'U', 'no_show', '{"full_name": "Ed", "phone": "+4915100000005"}');
update public.message_logs set lease_owner = 'w2' where id = (pg_temp.msg('R7', 'conf')).id;
-- And a row of the quiet hotel was claimed anyway (e.g. a retry that came due at night).
select pg_temp.hold((pg_temp.msg('R6', 'conf')).id);

insert into returned
select * from internal.prepare_messages_v1(array(select id from claimed) || (pg_temp.msg('R6', 'conf')).id, 'w1');

-- What goes out ----------------------------------------------------------------------------------
select results_eq($$select to_phone, body, language from returned order by id$$,
  $$values ('+4915100000099', 'Hallo Ada, das Hotel U erwartet Sie.', 'de'),
           ('+4915100000011', 'Your taxi is here.', null)$$,
  'only what can be sent now is returned, rendered with the guest''s current name, phone and language');
select results_eq($$select status::text, lease_owner, to_phone, body, language from public.message_logs where id = (pg_temp.msg('R1', 'conf')).id$$,
  $$values ('sending', 'w1', '+4915100000099', 'Hallo Ada, das Hotel U erwartet Sie.', 'de')$$,
  'the row keeps its lease and records exactly what is being sent');

-- What does not -------------------------------------------------------------------------------------
select results_eq($$select status::text, last_error, lease_owner, attempts from public.message_logs where id = (pg_temp.msg('R2', 'conf')).id$$,
  $$values ('cancelled', 'guest opted out of WhatsApp messages', null::text, 0)$$,
  'opted out since planning: cancelled, lease released, the attempt not counted');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R3', 'conf')).id$$,
  $$values ('skipped', 'guest has no phone number')$$,
  'phone number removed: skipped');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R4', 'conf')).id$$,
  $$values ('cancelled', 'reservation was cancelled')$$,
  'reservation cancelled: cancelled');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R5', 'conf')).id$$,
  $$values ('cancelled', 'reservation is a no-show')$$,
  'no-show: cancelled');
select results_eq($$select status::text, lease_owner from public.message_logs where id = (pg_temp.msg('R7', 'conf')).id$$,
  $$values ('sending', 'w2')$$,
  'a row another worker holds is not touched');
select results_eq($$select status::text, last_error from public.message_logs where dedupe_key = 'manual:2'$$,
  $$values ('dead', 'the message text is empty')$$,
  'a message with nothing to say is dead');
select results_eq(
  $$select status::text, next_attempt_at, attempts, lease_owner, last_error like 'deferred: quiet hours until %'
    from public.message_logs where id = (pg_temp.msg('R6', 'conf')).id$$,
  $$values ('queued', now() + interval '1 hour', 0, null::text, true)$$,
  'quiet hours at the hotel right now: back in the queue for when they end, no attempt counted');
select is((select count(*)::int from returned), 2, 'nothing else is returned');

-- Later changes of the plan that a claimed row missed ---------------------------------------------
-- An admin resends a pre-arrival message after the guest arrived.
select pg_temp.save('R8', 'U', 'checked_in', '{"full_name": "Hal", "phone": "+4915100000008"}', current_date - 1);
select is((pg_temp.msg('R8', 'pre')).status, 'skipped', 'arrived yesterday: the pre-arrival message was skipped');
select throws_ok(format('select public.resend_message(%s)', (pg_temp.msg('R8', 'pre')).id),
  '23514', format('message %s cannot be sent: too late, the guest has already arrived', (pg_temp.msg('R8', 'pre')).id),
  'resending it is refused with the reason');
-- A row queued before the guest arrived and claimed after.
update public.message_logs set status = 'queued', next_attempt_at = now() where id = (pg_temp.msg('R8', 'pre')).id;
select pg_temp.hold((pg_temp.msg('R8', 'pre')).id);
select is((select count(*)::int from internal.prepare_messages_v1(array[(pg_temp.msg('R8', 'pre')).id], 'w1')), 0,
  'queued before arrival, claimed after: it does not go out');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R8', 'pre')).id$$,
  $$values ('skipped', 'too late: the guest has already arrived')$$,
  'it is skipped as too late');

select pg_temp.hold((pg_temp.msg('R4', 'canc')).id);
select pg_temp.save('R4', 'U', 'confirmed', '{"full_name": "Di", "phone": "+4915100000004"}');
select pg_temp.hold((pg_temp.msg('R1', 'pre')).id);
update public.automation_rules set is_active = false where name = 'pre';
select pg_temp.hold((pg_temp.msg('R1', 'arr')).id);
delete from public.message_templates where key = 'welcome';
select is(
  (select count(*)::int from internal.prepare_messages_v1(array[
     (pg_temp.msg('R4', 'canc')).id, (pg_temp.msg('R1', 'pre')).id, (pg_temp.msg('R1', 'arr')).id], 'w1')),
  0, 'none of these can go out any more');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R4', 'canc')).id$$,
  $$values ('cancelled', 'reservation is no longer cancelled')$$,
  'a cancellation notice for a booking that came back: cancelled');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R1', 'pre')).id$$,
  $$values ('cancelled', 'the automation rule was removed or deactivated')$$,
  'its rule was switched off meanwhile: cancelled');
select results_eq($$select status::text, last_error from public.message_logs where id = (pg_temp.msg('R1', 'arr')).id$$,
  $$values ('skipped', 'no message template for this key in any language')$$,
  'its template was deleted: skipped');

-- Rules of the call ------------------------------------------------------------------------------------
select is((select count(*)::int from internal.prepare_messages_v1(array[(pg_temp.msg('R7', 'conf')).id], 'w1')), 0,
  'a worker cannot prepare rows another worker holds');
select results_eq($$select status::text, lease_owner from public.message_logs where id = (pg_temp.msg('R7', 'conf')).id$$,
  $$values ('sending', 'w2')$$, 'and they are left alone');
select is((select count(*)::int from internal.prepare_messages_v1(array[(pg_temp.msg('R2', 'conf')).id], 'w1')), 0,
  'rows not being sent are ignored');
select is((select count(*)::int from internal.prepare_messages_v1('{}', 'w1')), 0, 'an empty batch is fine');
select is(
  (select count(*)::int from public.message_logs where (status = 'sending') <> (lease_owner is not null)),
  0, 'only rows being sent hold a lease');

-- Prepared twice (a worker retrying its call) gives the same answer ------------------------------------
update public.message_logs set lease_owner = 'w1' where id = (pg_temp.msg('R7', 'conf')).id;
select results_eq(
  $$select * from internal.prepare_messages_v1(array[(pg_temp.msg('R7', 'conf')).id], 'w1')$$,
  $$select * from internal.prepare_messages_v1(array[(pg_temp.msg('R7', 'conf')).id], 'w1')$$,
  'preparing the same claimed row twice returns the same message');

-- A batch of a hundred, set-based ------------------------------------------------------------------------
select pg_temp.save('B' || n, 'U', 'confirmed', jsonb_build_object('full_name', 'Guest ' || n, 'phone', '+49151200' || lpad(n::text, 5, '0')))
from generate_series(1, 100) n;
create temporary table batch on commit drop as
select id from internal.claim_messages_v1('w1', 500, '2 minutes', 500);
select cmp_ok((select count(*)::int from batch), '>=', 100, 'a hundred confirmations (and whatever else is due) claimed');
select is((select count(*)::int from internal.prepare_messages_v1(array(select id from batch), 'w1')),
  (select count(*)::int from batch), 'and all prepared in one call');
select is(
  (select count(*)::int from public.message_logs m join batch b on b.id = m.id
   where m.body = 'Hello Guest, Hotel U awaits you.' and m.to_phone like '+49151200%'),
  100, 'each rendered for its guest');

-- Who may call it -----------------------------------------------------------------------------------------
select ok(not has_function_privilege('authenticated', 'internal.prepare_messages_v1(bigint[], text)', 'execute'),
  'signed-in users cannot prepare messages');
select ok(has_function_privilege('service_role', 'internal.prepare_messages_v1(bigint[], text)', 'execute'),
  'the worker (service_role) can');

select * from finish();
rollback;
