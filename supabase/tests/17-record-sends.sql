-- mark_messages_sent_v1: the worker records many accepted sends in one call; each session's gap
-- runs from the moment WAHA accepted its message, and the caller learns when it may send again.
begin;
select plan(12);

insert into public.tenants (id, name) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A'),
  ('10000000-0000-0000-0000-00000000000b', 'Hotel B');
insert into public.waha_configurations (tenant_id, base_url, session_status, send_gap_min_ms, send_gap_max_ms) values
  ('10000000-0000-0000-0000-00000000000a', 'http://127.0.0.1:9', 'WORKING', 2000, 2000),
  ('10000000-0000-0000-0000-00000000000b', 'http://127.0.0.1:9', 'WORKING', 2000, 2000);
insert into public.message_logs (id, tenant_id, template_key, dedupe_key, to_phone, body, status) overriding system value values
  (901, '10000000-0000-0000-0000-00000000000a', 'manual', 'm:1', '+4915100000001', 'One', 'queued'),
  (902, '10000000-0000-0000-0000-00000000000b', 'manual', 'm:2', '+4915100000002', 'Two', 'queued'),
  (903, '10000000-0000-0000-0000-00000000000b', 'manual', 'm:3', '+4915100000003', 'Three', 'queued');

-- w1 holds 901 and 902 (one per session, as a claim leaves them); 903 is w2's.
update public.message_logs set status = 'sending', attempts = 1, lease_owner = 'w1',
  lease_expires_at = now() + interval '2 minutes' where id in (901, 902);
update public.message_logs set status = 'sending', attempts = 1, lease_owner = 'w2',
  lease_expires_at = now() + interval '2 minutes' where id = 903;

select throws_ok(
  $$ select * from internal.mark_messages_sent_v1('w1', '{901,902}', '{a}', '{0,0}') $$,
  '22023', null, 'arrays of different lengths are refused'
);

create temporary table marked on commit drop as
select * from internal.mark_messages_sent_v1(
  'w1', '{901,902,903}', '{true_a@c.us_K1,true_b@c.us_K2,true_b@c.us_K3}', '{500,0,0}');

select is((select count(*)::int from marked), 2, 'only the messages leased to the caller are recorded');
select is((select status::text from public.message_logs where id = 903), 'sending',
  'another worker''s message is left alone');
select is((select status::text from public.message_logs where id = 901), 'sent', 'the first is sent');
select is((select waha_message_id from public.message_logs where id = 902), 'true_b@c.us_K2',
  'each gets its own WAHA message id');
select ok((select lease_owner is null and lease_expires_at is null from public.message_logs where id = 901),
  'the lease is given up');

-- sent_at is when WAHA answered: half a second before the call for 901.
select ok((select sent_at between clock_timestamp() - interval '600 milliseconds'
                            and clock_timestamp() - interval '450 milliseconds'
           from public.message_logs where id = 901),
  'sent_at is the moment WAHA accepted the message, on the database clock');

-- The gap (exactly 2 s here) runs from sent_at, not from the call.
select is((select w.next_send_at - m.sent_at from public.waha_configurations w
           join public.message_logs m on m.tenant_id = w.tenant_id where m.id = 901),
  interval '2 seconds', 'the session''s gap runs from WAHA''s answer');
select is((select w.next_send_at - m.sent_at from public.waha_configurations w
           join public.message_logs m on m.tenant_id = w.tenant_id where m.id = 902),
  interval '2 seconds', 'for every session recorded in the call');

select ok((select session_ready_in_ms between 1300 and 1550 from marked where id = 901),
  'the caller learns when each session may send again (2 s gap, accepted 0.5 s ago)');
select ok((select session_ready_in_ms between 1800 and 2050 from marked where id = 902),
  'and for a message accepted just now, the whole gap');

select is(
  (select count(*)::int from internal.mark_messages_sent_v1('w1', '{901}', '{true_a@c.us_K1}', '{0}')),
  0, 'recording the same send twice changes nothing'
);

select * from finish();
rollback;
