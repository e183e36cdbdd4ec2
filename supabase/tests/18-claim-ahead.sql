-- claim_messages_v4: a session's next message is handed out shortly before its gap ends, with how
-- long the worker must still wait; the gap itself never shrinks, not even when the message is
-- handed back unsent.
begin;
select plan(14);

insert into public.tenants (id, name) values
  ('20000000-0000-0000-0000-00000000000a', 'Gap ending soon'),
  ('20000000-0000-0000-0000-00000000000b', 'Gap ending later'),
  ('20000000-0000-0000-0000-00000000000c', 'Ready');
insert into public.waha_configurations (tenant_id, base_url, session_status, send_gap_min_ms, send_gap_max_ms) values
  ('20000000-0000-0000-0000-00000000000a', 'http://127.0.0.1:9', 'WORKING', 2000, 2000),
  ('20000000-0000-0000-0000-00000000000b', 'http://127.0.0.1:9', 'WORKING', 2000, 2000),
  ('20000000-0000-0000-0000-00000000000c', 'http://127.0.0.1:9', 'WORKING', 2000, 2000);
insert into public.message_logs (id, tenant_id, template_key, dedupe_key, to_phone, body, status) overriding system value values
  (801, '20000000-0000-0000-0000-00000000000a', 'manual', 'm:1', '+4915100000001', 'A1', 'queued'),
  (802, '20000000-0000-0000-0000-00000000000a', 'manual', 'm:2', '+4915100000002', 'A2', 'queued'),
  (803, '20000000-0000-0000-0000-00000000000b', 'manual', 'm:3', '+4915100000003', 'B1', 'queued'),
  (804, '20000000-0000-0000-0000-00000000000c', 'manual', 'm:4', '+4915100000004', 'C1', 'queued');

-- A's last message left a gap that ends in 400 ms, B's in 3 s; C's ended a second ago.
update public.waha_configurations
set next_send_at = clock_timestamp() + interval '400 milliseconds', gap_ends_at = clock_timestamp() + interval '400 milliseconds'
where tenant_id = '20000000-0000-0000-0000-00000000000a';
update public.waha_configurations
set next_send_at = clock_timestamp() + interval '3 seconds', gap_ends_at = clock_timestamp() + interval '3 seconds'
where tenant_id = '20000000-0000-0000-0000-00000000000b';
update public.waha_configurations
set next_send_at = clock_timestamp() - interval '1 second', gap_ends_at = clock_timestamp() - interval '1 second'
where tenant_id = '20000000-0000-0000-0000-00000000000c';

select throws_ok(
  $$ select * from internal.claim_messages_v4('w1', 10, '2 minutes', '10 seconds') $$,
  '22023', null, 'a look-ahead longer than 5 s is refused'
);
select throws_ok(
  $$ select * from internal.claim_messages_v4('w1', 10, '5 seconds', '5 seconds') $$,
  '22023', null, 'so is one that is not shorter than the lease'
);

select is(
  (select array_agg(id order by id) from internal.claim_messages_v4('w1', 10, '2 minutes', '0')),
  '{804}'::bigint[], 'without look-ahead only the session whose gap has passed is claimed'
);

create temporary table claimed on commit drop as
select * from internal.claim_messages_v4('w1', 10, '2 minutes', '1 second');

select is((select array_agg(id order by id) from claimed), '{801}'::bigint[],
  'with a second of look-ahead the session whose gap ends in 400 ms is claimed too, B''s is not');
select ok((select send_in_ms between 100 and 400 from claimed where id = 801),
  'the worker learns how long it must still wait before sendText');
select is((select status::text from public.message_logs where id = 802), 'queued',
  'still at most one message per session');
select ok((select next_send_at > now() + interval '1 minute' from public.waha_configurations
           where tenant_id = '20000000-0000-0000-0000-00000000000a'),
  'the session is held while its message is out');
select is((select count(*)::int from internal.claim_messages_v4('w2', 10, '2 minutes', '1 second')), 0,
  'another replica gets nothing of a held session');

-- 804 was claimed without look-ahead at once: its wait is zero.
select is((select count(*)::int from public.message_logs where id = 804 and status = 'sending'), 1,
  'the ready session''s message is out');

-- Handed back unsent (say, shutdown) while A's gap is still running: the session is not free
-- before the gap's end.
select is(internal.release_messages_v1('{801}', 'w1', 'worker shut down'), 1, 'the message is handed back');
select is((select next_send_at = gap_ends_at from public.waha_configurations
           where tenant_id = '20000000-0000-0000-0000-00000000000a'), true,
  'a hand-back frees the session at the end of its gap, not now');

-- Handed back after the gap: free at once, as before.
select is(internal.release_messages_v1('{804}', 'w1', 'worker shut down'), 1, 'C''s message is handed back');
select ok((select next_send_at = now() from public.waha_configurations
           where tenant_id = '20000000-0000-0000-0000-00000000000c'),
  'a session whose gap has passed is free at once');

-- Recorded as sent: a fresh gap from WAHA's answer, remembered as the gap's end.
update public.message_logs set status = 'sending', attempts = 1, lease_owner = 'w1',
  lease_expires_at = now() + interval '2 minutes' where id = 804;
select internal.mark_messages_sent_v1('w1', '{804}', '{true_c@c.us_K4}', '{0}');
select ok((select w.gap_ends_at = w.next_send_at and w.next_send_at - m.sent_at = interval '2 seconds'
           from public.waha_configurations w join public.message_logs m on m.tenant_id = w.tenant_id
           where m.id = 804),
  'a send starts a new 2 s gap from WAHA''s answer and the session remembers its end');

select * from finish();
rollback;
