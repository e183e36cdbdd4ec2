-- Wake-ups through Realtime Broadcast: at most one message per queue per transaction that leaves
-- work and per minimum interval, on a private topic that signed-in users can neither read nor write.
begin;
select plan(12);

-- Realtime creates realtime.messages' daily partitions when it connects (devstack does it when it
-- prepares the database); a default partition makes the test independent of the date.
create table realtime.messages_test partition of realtime.messages default;

insert into auth.users (id, email) values ('00000000-0000-0000-0000-00000000000a', 'owner-a@example.com');
insert into public.tenants (id, name) values ('10000000-0000-0000-0000-00000000000a', 'Hotel A');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000a', 'owner');

create function pg_temp.wakeups() returns table (queue text, n bigint)
language sql
set search_path = ''
as $$
  select payload ->> 'queue', count(*) from realtime.messages
  where topic = 'worker:queues' and event = 'wake' and private and extension = 'broadcast'
  group by 1 order by 1
$$;

-- A message that leaves no work sends nothing.
insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status)
values ('10000000-0000-0000-0000-00000000000a', 'manual', 'm:0', '+4915100000000', 'Zero', 'cancelled');
select is_empty('select * from pg_temp.wakeups()', 'a row that leaves no work sends no wake-up');

-- Two ingests, two queued messages in two statements: one wake-up per queue.
select count(*) from internal.ingest_inbound_events_v1('10000000-0000-0000-0000-00000000000a', 'pms', 'generic',
  '[{"event_id": "evt-1", "event_type": "reservation.created", "payload": {}},
    {"event_id": "evt-2", "event_type": "reservation.created", "payload": {}}]', null);
select count(*) from internal.ingest_inbound_events_v1('10000000-0000-0000-0000-00000000000a', 'pms', 'generic',
  '[{"event_id": "evt-3", "event_type": "reservation.created", "payload": {}}]', null);
insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status)
values ('10000000-0000-0000-0000-00000000000a', 'manual', 'm:1', '+4915100000001', 'One', 'queued'),
       ('10000000-0000-0000-0000-00000000000a', 'manual', 'm:2', '+4915100000002', 'Two', 'queued');
insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status)
values ('10000000-0000-0000-0000-00000000000a', 'manual', 'm:3', '+4915100000003', 'Three', 'queued');
select results_eq(
  'select * from pg_temp.wakeups()',
  $$values ('inbound_events', 1::bigint), ('message_logs', 1::bigint)$$,
  'three rows in two statements of one transaction: one wake-up per queue'
);
select is(
  (select jsonb_object_keys(payload - 'queue') from realtime.messages where topic = 'worker:queues' limit 1),
  'id',
  'the payload names the queue and carries nothing else but the id realtime.send adds'
);

-- The next transaction (here: the flag of this one cleared) within the interval stays silent
-- (an hour here, so that a slow machine cannot pass it)...
update private.wakeup_broadcasts set min_interval = interval '1 hour';
select set_config('hotelwa.broadcast_woken_inbound_events', '', true);
select private.broadcast_wakeup('inbound_events');
select results_eq(
  $$select n from pg_temp.wakeups() where queue = 'inbound_events'$$,
  $$values (1::bigint)$$,
  'within the minimum interval since the last wake-up of a queue, a transaction sends none'
);
-- ... and once it has passed, sends again.
update private.wakeup_broadcasts set last_sent_at = last_sent_at - interval '61 minutes' where queue = 'inbound_events';
select set_config('hotelwa.broadcast_woken_inbound_events', '', true);
select private.broadcast_wakeup('inbound_events');
select results_eq(
  $$select n from pg_temp.wakeups() where queue = 'inbound_events'$$,
  $$values (2::bigint)$$,
  'after the interval, the next transaction that leaves work sends one'
);

-- Signed-in users: the private topic is closed to them (Realtime's join check selects a probe row).
insert into realtime.messages (id, topic, extension) values
  ('20000000-0000-0000-0000-000000000001', 'worker:queues', 'broadcast');
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);
select set_config('realtime.topic', 'worker:queues', true);
select is_empty(
  $$select 1 from realtime.messages where id = '20000000-0000-0000-0000-000000000001'$$,
  'a signed-in owner cannot read the workers'' topic'
);
select throws_ok(
  $$insert into realtime.messages (topic, extension, event, payload, private)
    values ('worker:queues', 'broadcast', 'wake', '{"queue": "message_logs"}', true)$$,
  '42501',
  null,
  'nor send a wake-up into it'
);
select throws_ok(
  $$select private.broadcast_wakeup('sync_jobs')$$,
  '42501',
  null,
  'nor call the wake-up function themselves'
);
reset role;

-- The anon role is refused too.
set local role anon;
select is_empty(
  $$select 1 from realtime.messages where id = '20000000-0000-0000-0000-000000000001'$$,
  'anon cannot read the workers'' topic'
);
reset role;

-- The service role (what the worker's key carries) bypasses RLS and reads it.
set local role service_role;
select isnt_empty(
  $$select 1 from realtime.messages where id = '20000000-0000-0000-0000-000000000001'$$,
  'the service role reads the workers'' topic'
);
reset role;

-- Without a partition (Realtime never connected), work is still stored: realtime.send only warns.
update private.wakeup_broadcasts set last_sent_at = '-infinity';
select set_config('hotelwa.broadcast_woken_sync_jobs', '', true);
do $$
declare
  part regclass;
begin
  for part in select inhrelid::regclass from pg_inherits where inhparent = 'realtime.messages'::regclass loop
    execute format('drop table %s', part);
  end loop;
end
$$;
select lives_ok(
  $$select private.broadcast_wakeup('sync_jobs')$$,
  'a wake-up that cannot be stored does not fail the transaction that leaves the work'
);

-- A writer that may not call the wake-up itself still fires it through the queues' triggers (the
-- Data API with the secret key, here).
set local role service_role;
select lives_ok(
  $$insert into public.message_logs (tenant_id, template_key, dedupe_key, to_phone, body, status)
    values ('10000000-0000-0000-0000-00000000000a', 'manual', 'm:svc', '+4915100000009', 'Svc', 'queued')$$,
  'the service role writes a due message: its wake-up trigger runs'
);
reset role;

select * from finish();
rollback;
