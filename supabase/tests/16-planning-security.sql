-- Planning runs for every writer: a tenant admin editing through PostgREST (RLS applies) gets
-- the same planning as the worker, without being able to write messages or call the planner
-- directly. The worker's functions are for service_role only.
begin;
select plan(19);

set local timezone = 'UTC';

insert into auth.users (id, email) values
  ('00000000-0000-0000-0000-00000000000a', 'admin-a@example.com'),
  ('00000000-0000-0000-0000-00000000000b', 'staff-a@example.com'),
  ('00000000-0000-0000-0000-00000000000c', 'owner-b@example.com'),
  ('00000000-0000-0000-0000-00000000000d', 'owner-a@example.com');
insert into public.tenants (id, name) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A'),
  ('10000000-0000-0000-0000-00000000000b', 'Hotel B');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('10000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-00000000000c', 'owner'),
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000d', 'owner'),
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000a', 'admin'),
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b', 'staff');
insert into public.properties (id, tenant_id, name, timezone, quiet_hours_start, quiet_hours_end) values
  ('20000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-00000000000a', 'A', 'Europe/Berlin', '21:00', '08:00'),
  ('20000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-00000000000b', 'B', 'Europe/Berlin', '21:00', '08:00');
insert into public.guests (id, tenant_id, full_name, phone_e164) values
  ('50000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-00000000000a', 'Ada', '+4915100000001'),
  ('50000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-00000000000b', 'Bea', '+4915100000002');
insert into public.message_templates (tenant_id, key, language, body) values
  ('10000000-0000-0000-0000-00000000000a', 'pre_arrival', 'en', 'See you, {{guest_first_name}}'),
  ('10000000-0000-0000-0000-00000000000b', 'pre_arrival', 'en', 'See you, {{guest_first_name}}');
insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key) values
  ('10000000-0000-0000-0000-00000000000a', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival'),
  ('10000000-0000-0000-0000-00000000000b', 'pre', 'before_arrival', 3, '10:00', 'pre_arrival');
insert into public.reservations (id, tenant_id, property_id, guest_id, provider, pms_reservation_id, status,
                                 arrival_date, departure_date, pms_updated_at) values
  ('60000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-00000000000b', '20000000-0000-0000-0000-00000000000b',
   '50000000-0000-0000-0000-00000000000b', 'generic', 'RB', 'confirmed', '2035-06-10', '2035-06-13', now());

-- ---- as the admin of A, through PostgREST -------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "00000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);

select lives_ok(
  $$insert into public.reservations (id, tenant_id, property_id, guest_id, provider, pms_reservation_id, status,
                                     arrival_date, departure_date, pms_updated_at, last_request_id)
    values ('60000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-00000000000a',
            '20000000-0000-0000-0000-00000000000a', '50000000-0000-0000-0000-00000000000a', 'generic', 'RA',
            'confirmed', '2035-06-10', '2035-06-13', now(), 'dashboard-req-1')$$,
  'an admin adds a reservation by hand');
select results_eq(
  $$select status::text, scheduled_for, body, request_id from public.message_logs$$,
  $$values ('scheduled', '2035-06-07 08:00+00'::timestamptz, 'See you, Ada', 'dashboard-req-1')$$,
  'its message is planned, and the admin sees only their tenant''s messages');

select lives_ok(
  $$update public.reservations set arrival_date = '2035-06-11', last_request_id = 'dashboard-req-2'
    where id = '60000000-0000-0000-0000-00000000000a'$$,
  'the admin moves the arrival');
select results_eq($$select scheduled_for, request_id from public.message_logs$$,
  $$values ('2035-06-08 08:00+00'::timestamptz, 'dashboard-req-2')$$,
  'the message moves with it, carrying the dashboard''s request id');

update public.reservations set status = 'cancelled' where id = '60000000-0000-0000-0000-00000000000a';
select results_eq($$select status::text, last_error from public.message_logs$$,
  $$values ('cancelled', 'reservation was cancelled')$$,
  'the admin cancels the reservation: its message is cancelled');
update public.reservations set status = 'confirmed' where id = '60000000-0000-0000-0000-00000000000a';
select is((select status::text from public.message_logs), 'scheduled', 'and un-cancels it: planned again');

update public.automation_rules set send_at_local = '11:00' where name = 'pre';
select is((select scheduled_for from public.message_logs), '2035-06-08 09:00+00'::timestamptz,
  'the admin edits the rule: the message moves');
update public.message_templates set body = 'Bis bald, {{guest_first_name}}' where key = 'pre_arrival';
select is((select body from public.message_logs), 'Bis bald, Ada', 'edits the template: the text follows');
update public.properties set quiet_hours_start = '10:00', quiet_hours_end = '12:00'
where id = '20000000-0000-0000-0000-00000000000a';
select is((select scheduled_for from public.message_logs), '2035-06-08 10:00+00'::timestamptz,
  'edits the quiet hours: the message waits for their end');

select throws_ok(
  $$insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body)
    values ('10000000-0000-0000-0000-00000000000a', 'x', 'x', '+4915100000001', 'spam')$$,
  '42501', 'permission denied for table message_logs',
  'but cannot write messages itself');
select throws_ok(
  $$select private.plan_messages(array['60000000-0000-0000-0000-00000000000a'::uuid])$$,
  '42501', 'permission denied for function plan_messages',
  'nor call the planner');
select throws_ok(
  $$select * from internal.prepare_messages_v1(array[1::bigint], 'w')$$,
  '42501', 'permission denied for schema internal',
  'nor the worker''s prepare function');
select throws_ok(
  $$select internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000b', '+4915100000002', 'x')$$,
  '42501', 'permission denied for schema internal',
  'nor opt guests out through the worker''s function');

-- ---- as staff of A ---------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"sub": "00000000-0000-0000-0000-00000000000b", "role": "authenticated"}', true);
update public.guests set whatsapp_opt_in = false, opt_out_reason = 'asked at the front desk'
where id = '50000000-0000-0000-0000-00000000000a';
select results_eq($$select status::text, last_error from public.message_logs$$,
  $$values ('cancelled', 'guest opted out of WhatsApp messages')$$,
  'staff record an opt-out at the front desk: the guest''s messages are cancelled');

-- ---- as the owner of B -------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"sub": "00000000-0000-0000-0000-00000000000c", "role": "authenticated"}', true);
update public.reservations set status = 'cancelled' where id = '60000000-0000-0000-0000-00000000000a';
update public.automation_rules set is_active = false where tenant_id = '10000000-0000-0000-0000-00000000000a';
select results_eq($$select status::text from public.message_logs$$, $$values ('scheduled')$$,
  'the owner of B sees only B''s message, and cannot touch A''s plan');

-- ---- anon ---------------------------------------------------------------------------------------------
set local role anon;
select throws_ok($$select * from internal.prepare_messages_v1(array[1::bigint], 'w')$$, '42501', null,
  'anon cannot prepare messages');

-- ---- as the worker ------------------------------------------------------------------------------------
set local role service_role;
select is(internal.opt_out_guest_v1('10000000-0000-0000-0000-00000000000b', '+4915100000002', 'STOP'), true,
  'the worker (service_role) opts a guest out');
select is((select count(*)::int from internal.prepare_messages_v1(array[]::bigint[], 'w')), 0,
  'and may call prepare_messages_v1');

reset role;
select results_eq(
  $$select r.pms_reservation_id, m.status::text from public.message_logs m join public.reservations r on r.id = m.reservation_id order by 1$$,
  $$values ('RA', 'cancelled'), ('RB', 'cancelled')$$,
  'in the end: A''s message cancelled by the staff''s opt-out, B''s by the worker''s');

select * from finish();
rollback;
