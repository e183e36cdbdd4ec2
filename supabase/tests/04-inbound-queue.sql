-- The inbound event queue: idempotent ingest, leases, backoff, dead letters, replay.
begin;
select plan(17);

insert into auth.users (id, email) values
  ('00000000-0000-0000-0000-00000000000a', 'owner-a@example.com'),
  ('00000000-0000-0000-0000-00000000000b', 'staff-a@example.com'),
  ('00000000-0000-0000-0000-00000000000c', 'owner-b@example.com');
insert into public.tenants (id, name) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A'),
  ('10000000-0000-0000-0000-00000000000b', 'Hotel B');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000a', 'owner'),
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b', 'staff'),
  ('10000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-00000000000c', 'owner');

-- Idempotent ingest ----------------------------------------------------------------------------
select results_eq(
  $$select event_id, duplicate from internal.ingest_inbound_events_v1(
      '10000000-0000-0000-0000-00000000000a', 'pms', 'generic',
      '[{"event_id": "evt-1", "event_type": "reservation.created", "payload": {"n": 1}},
        {"event_id": "evt-2", "event_type": "reservation.updated", "payload": {"n": 2}}]', 'req-1')$$,
  $$values ('evt-1', false), ('evt-2', false)$$,
  'two new events are stored'
);
select results_eq(
  $$select event_id, duplicate from internal.ingest_inbound_events_v1(
      '10000000-0000-0000-0000-00000000000a', 'pms', 'generic',
      '[{"event_id": "evt-1", "event_type": "reservation.created", "payload": {"n": 99}}]', 'req-2')$$,
  $$values ('evt-1', true)$$,
  'the same event again is reported as a duplicate'
);
select is(
  (select payload ->> 'n' from public.inbound_events where event_id = 'evt-1'),
  '1',
  'and the stored event is left as it was'
);
select is(
  (select count(*)::int from internal.ingest_inbound_events_v1(
      '10000000-0000-0000-0000-00000000000b', 'pms', 'generic',
      '[{"event_id": "evt-1", "event_type": "reservation.created", "payload": {}}]', null)
   where not duplicate),
  1,
  'the same event id in another tenant is another event'
);
select is(
  (select request_id from public.inbound_events
   where event_id = 'evt-2' and tenant_id = '10000000-0000-0000-0000-00000000000a'),
  'req-1',
  'the request id is stored with the event'
);

-- Claim, lease, complete ----------------------------------------------------------------------
select is(
  (select count(*)::int from internal.claim_inbound_events_v1('worker-1', 2, '1 minute')),
  2,
  'a worker claims a batch of due events'
);
select is(
  (select count(*)::int from internal.claim_inbound_events_v1('worker-2', 10, '1 minute')),
  1,
  'a second worker gets only what is left'
);
select is(
  (select count(*)::int from internal.complete_inbound_events_v1(
     array(select id from public.inbound_events where lease_owner = 'worker-1'), 'worker-2')),
  0,
  'a worker cannot complete rows it does not hold'
);
select is(
  (select count(*)::int from internal.complete_inbound_events_v1(
     array(select id from public.inbound_events where lease_owner = 'worker-1'), 'worker-1')),
  2,
  'the lease holder completes them'
);

-- Retries with backoff, dead letter at exactly max attempts ----------------------------------
update public.inbound_events set max_attempts = 3
where tenant_id = '10000000-0000-0000-0000-00000000000b';
select is(
  internal.fail_inbound_event_v1(
    (select id from public.inbound_events where lease_owner = 'worker-2'), 'worker-2', 'PMS timeout', true),
  'pending'::public.inbound_event_status,
  'a retryable failure goes back to pending'
);
select ok(
  (select next_attempt_at > now() and last_error = 'PMS timeout' from public.inbound_events
   where tenant_id = '10000000-0000-0000-0000-00000000000b'),
  'with a backoff and the error kept'
);
-- Attempts 2 and 3.
update public.inbound_events set next_attempt_at = now() where tenant_id = '10000000-0000-0000-0000-00000000000b';
select internal.claim_inbound_events_v1('worker-2', 10, '1 minute');
select internal.fail_inbound_event_v1(
  (select id from public.inbound_events where lease_owner = 'worker-2'), 'worker-2', 'PMS timeout', true);
update public.inbound_events set next_attempt_at = now() where tenant_id = '10000000-0000-0000-0000-00000000000b';
select internal.claim_inbound_events_v1('worker-2', 10, '1 minute');
select is(
  internal.fail_inbound_event_v1(
    (select id from public.inbound_events where lease_owner = 'worker-2'), 'worker-2', 'PMS timeout', true),
  'dead'::public.inbound_event_status,
  'the third failure of three allowed attempts dead-letters the event'
);

-- An expired lease is reclaimed -------------------------------------------------------------
select internal.ingest_inbound_events_v1('10000000-0000-0000-0000-00000000000a', 'waha', 'waha',
  '[{"event_id": "ack-1", "event_type": "message.ack", "payload": {}}]', null);
select internal.claim_inbound_events_v1('crashed-worker', 10, '1 minute');
update public.inbound_events set lease_expires_at = now() - interval '1 second' where lease_owner = 'crashed-worker';
select results_eq(
  $$select event_id, lease_owner from internal.claim_inbound_events_v1('worker-3', 10, '1 minute')$$,
  $$values ('ack-1', 'worker-3')$$,
  'a row whose worker died is claimed again after its lease'
);

-- Replay (admins of the tenant only, once) ----------------------------------------------------
select set_config('test.dead_event',
  (select id::text from public.inbound_events where tenant_id = '10000000-0000-0000-0000-00000000000b'), true);
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);
select throws_ok(
  $$select public.replay_inbound_event(current_setting('test.dead_event')::bigint)$$,
  'P0002',
  'inbound event not found or not accessible',
  'the owner of A cannot replay B''s events, and is answered as for a missing one'
);
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000c", "role": "authenticated"}', true);
select is(
  public.replay_inbound_event(current_setting('test.dead_event')::bigint),
  true,
  'the owner of B replays B''s dead event'
);
select is(
  public.replay_inbound_event(current_setting('test.dead_event')::bigint),
  false,
  'a second replay changes nothing'
);
reset role;
select results_eq(
  $$select status::text, attempts, replay_count from public.inbound_events
    where tenant_id = '10000000-0000-0000-0000-00000000000b'$$,
  $$values ('pending', 0, 1)$$,
  'the replayed event is pending again with fresh attempts, replayed once'
);

select * from finish();
rollback;
