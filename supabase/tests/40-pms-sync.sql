-- PMS sync: schedule, how a run ends (cursor and health), automatic recovery, batch upserts.
begin;
select plan(50);

-- Jobs left by other suites would be claimed first; this transaction only sees its own.
delete from public.sync_jobs;

insert into auth.users (id, email) values
  ('00000000-0000-0000-0000-0000000000a1', 'owner-40@example.com');
insert into public.tenants (id, name) values
  ('10000000-0000-0000-0000-0000000000a1', 'Hotel Sync');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('10000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a1', 'owner');
insert into public.properties (tenant_id, name, timezone, pms_property_id) values
  ('10000000-0000-0000-0000-0000000000a1', 'Main', 'Europe/Berlin', 'P-1');
insert into public.pms_configurations (id, tenant_id, provider, auth_scheme, api_base_url) values
  ('30000000-0000-0000-0000-0000000000a1', '10000000-0000-0000-0000-0000000000a1', 'apaleo', 'token',
   'https://api.apaleo.example');

-- ---- the schedule -----------------------------------------------------------------------------
select is(
  (select schedule || ' ' || command from cron.job where jobname = 'pms-incremental-syncs'),
  '* * * * * select internal.schedule_pms_syncs_v1()',
  'pg_cron looks for due syncs every minute'
);

select is(internal.schedule_pms_syncs_v1(), 0, 'a configuration without credentials is not synced');

select lives_ok(
  $$select public.set_pms_credentials('30000000-0000-0000-0000-0000000000a1', '{"client_id": "c", "client_secret": "s"}')$$,
  'an admin enters the credentials'
);
select results_eq(
  $$select kind::text, trigger::text, status::text from public.sync_jobs$$,
  $$values ('full', 'initial', 'pending')$$,
  'the first credentials start a full sync'
);
select is(internal.schedule_pms_syncs_v1(), 0, 'a sync requested within the interval is enough');

update public.sync_jobs set requested_at = now() - interval '20 minutes';
select is(internal.schedule_pms_syncs_v1(), 1, 'after sync_interval_minutes another one is due');
select results_eq(
  $$select kind::text, trigger::text from public.sync_jobs where trigger = 'schedule'$$,
  $$values ('incremental', 'schedule')$$,
  'the scheduled one is incremental'
);
update public.sync_jobs set requested_at = now() - interval '20 minutes';
update public.pms_configurations set is_active = false where id = '30000000-0000-0000-0000-0000000000a1';
select is(internal.schedule_pms_syncs_v1(), 0, 'a switched-off configuration is not scheduled');
update public.pms_configurations set is_active = true where id = '30000000-0000-0000-0000-0000000000a1';
delete from public.sync_jobs;

-- ---- a run that meets rejected credentials ------------------------------------------------------
select ok(internal.enqueue_sync_v1('30000000-0000-0000-0000-0000000000a1', 'incremental', 'schedule') is not null,
  'a sync is requested');
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'a worker claims the sync');
select is(
  (select count(*)::int from internal.claim_sync_job_v1('w-2', '1 minute')),
  0,
  'nothing else of the configuration runs meanwhile'
);
select is(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-2', false, '{}', 'x', 'ok', now()),
  false,
  'only the lease holder ends the run'
);
select is(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-1', false, '{"pages": 0}',
    'apaleo rejected the credentials (401) on GET reservations: invalid_token', 'rejected', now()),
  true,
  'the holder records the failure'
);
select results_eq(
  $$select health::text, consecutive_failures, last_error, sync_paused_reason, sync_cursor
    from public.pms_configurations where id = '30000000-0000-0000-0000-0000000000a1'$$,
  $$values ('failing', 1, 'apaleo rejected the credentials (401) on GET reservations: invalid_token',
            'apaleo rejected the credentials (401) on GET reservations: invalid_token', null::timestamptz)$$,
  'rejected credentials: failing with the reason, syncs paused, cursor unchanged'
);
update public.sync_jobs set requested_at = now() - interval '1 day';
select is(internal.schedule_pms_syncs_v1(), 0, 'a paused configuration is not scheduled (no retry storm)');

select lives_ok(
  $$select public.set_pms_credentials('30000000-0000-0000-0000-0000000000a1', '{"client_id": "c", "client_secret": "new"}')$$,
  'the admin enters new credentials'
);
select results_eq(
  $$select health::text, sync_paused_reason from public.pms_configurations
    where id = '30000000-0000-0000-0000-0000000000a1'$$,
  $$values ('unknown', null::text)$$,
  'new credentials lift the pause'
);
select results_eq(
  $$select kind::text, trigger::text from public.sync_jobs where status = 'pending'$$,
  $$values ('full', 'initial')$$,
  'and, with no cursor yet, start the first full sync'
);

-- ---- a successful run moves the cursor -----------------------------------------------------------
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'the full sync is claimed');
select ok(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-1', true,
    '{"pages": 3, "created": 450, "updated": 0, "unchanged": 0, "failed": 0,
      "cursor_from": "2024-11-01T00:00:00Z", "cursor_to": "2026-11-01T10:00:00Z"}',
    null, 'ok', '2026-11-01T10:00:00Z'),
  'and succeeds'
);
select results_eq(
  $$select health::text, consecutive_failures, sync_cursor, sync_paused_reason
    from public.pms_configurations where id = '30000000-0000-0000-0000-0000000000a1'$$,
  $$values ('ok', 0, '2026-11-01T10:00:00Z'::timestamptz, null::text)$$,
  'success: healthy, cursor at the end of the window'
);
select results_eq(
  $$select pages, created_count, cursor_to from public.sync_jobs where status = 'succeeded'$$,
  $$values (3, 450, '2026-11-01T10:00:00Z'::timestamptz)$$,
  'the job keeps its counts and window'
);
select is(
  (select count(*)::int from public.sync_jobs where status = 'pending'),
  0,
  'a healthy success enqueues nothing'
);

-- ---- an outage and its end ------------------------------------------------------------------------
select ok(internal.enqueue_sync_v1('30000000-0000-0000-0000-0000000000a1', 'incremental', 'schedule') is not null,
  'the next sync is requested');
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'the next sync is claimed');
select ok(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-1', false, '{}',
    'apaleo GET reservations: answered 503 (after 4 attempts)', 'unreachable', '2026-11-01T12:00:00Z'),
  'and fails: the PMS is down'
);
select results_eq(
  $$select health::text, consecutive_failures, sync_cursor, sync_paused_reason
    from public.pms_configurations where id = '30000000-0000-0000-0000-0000000000a1'$$,
  $$values ('failing', 1, '2026-11-01T10:00:00Z'::timestamptz, null::text)$$,
  'unreachable: failing, cursor kept, schedule not paused'
);

select ok(internal.enqueue_sync_v1('30000000-0000-0000-0000-0000000000a1', 'reservation', 'webhook', 'R-1', 'req-1')
  is not null, 'a webhook asks for a reservation');
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'a webhook fetch is claimed');
select ok(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-1', true,
    '{"pages": 1, "created": 0, "updated": 1, "unchanged": 0, "failed": 0}', null, 'ok', null),
  'and succeeds: the PMS answers again'
);
select results_eq(
  $$select kind::text, trigger::text, status::text from public.sync_jobs where status = 'pending'$$,
  $$values ('incremental', 'recovery', 'pending')$$,
  'the end of the outage enqueues a recovery sync'
);
select is(
  (select sync_cursor from public.pms_configurations where id = '30000000-0000-0000-0000-0000000000a1'),
  '2026-11-01T10:00:00Z'::timestamptz,
  'which starts from the last good cursor'
);

-- A sync that itself succeeds after failures has closed the gap: no extra recovery.
update public.pms_configurations set health = 'failing', consecutive_failures = 2
where id = '30000000-0000-0000-0000-0000000000a1';
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'the recovery is claimed');
select ok(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-1', true, '{}', null, 'ok',
    '2026-11-01T13:00:00Z'),
  'and succeeds'
);
select is(
  (select count(*)::int from public.sync_jobs where status = 'pending'),
  0,
  'a successful sync after failures enqueues no second recovery'
);
select is(
  (select sync_cursor from public.pms_configurations where id = '30000000-0000-0000-0000-0000000000a1'),
  '2026-11-01T13:00:00Z'::timestamptz,
  'the cursor moved'
);

-- The cursor never moves back.
select ok(internal.enqueue_sync_v1('30000000-0000-0000-0000-0000000000a1', 'incremental', 'manual') is not null,
  'someone asks for a sync');
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'another sync is claimed');
select ok(
  internal.finish_pms_sync_v1(
    (select id from public.sync_jobs where status = 'running'), 'w-1', true, '{}', null, 'ok',
    '2026-10-01T00:00:00Z'),
  'and ends with an older window end'
);
select is(
  (select sync_cursor from public.pms_configurations where id = '30000000-0000-0000-0000-0000000000a1'),
  '2026-11-01T13:00:00Z'::timestamptz,
  'the cursor stays where it was'
);

-- ---- reservation jobs merged into one run, and a run given back -----------------------------------
select is(
  (select count(distinct internal.enqueue_sync_v1('30000000-0000-0000-0000-0000000000a1', 'reservation', 'webhook',
                                                 'R-' || n, 'req-m'))::int
   from generate_series(1, 5) n),
  5,
  'five webhooks ask for five reservations'
);
select is((select count(*)::int from internal.claim_sync_job_v1('w-1', '1 minute')), 1, 'one reservation job runs');
select is(
  (select count(*)::int from internal.absorb_reservation_jobs_v1(
     (select id from public.sync_jobs where status = 'running'), 'w-1', 3)),
  3,
  'it takes up to the limit of the waiting ones'
);
select is(
  (select count(*)::int from public.sync_jobs where status = 'cancelled' and error like 'merged into sync job %'),
  3,
  'which end as merged into it'
);
select ok(
  internal.release_sync_job_v1((select id from public.sync_jobs where status = 'running'), 'w-1'),
  'a stopping worker gives its job back'
);
select results_eq(
  $$select status::text, attempts, lease_owner from public.sync_jobs
    where pms_reservation_id = 'R-1' and status <> 'succeeded'$$,
  $$values ('pending', 0, null::text)$$,
  'pending again, without using up an attempt'
);

-- ---- batch upserts ------------------------------------------------------------------------------
select results_eq(
  $$select ord, pms_reservation_id, outcome, error is not null
    from internal.upsert_reservations_v1('10000000-0000-0000-0000-0000000000a1', '[
      {"provider": "apaleo", "pms_reservation_id": "B-1", "pms_property_id": "P-1", "status": "confirmed",
       "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-20T10:00:00Z",
       "guest": {"full_name": "A", "phone": "+4915112345678"}},
      {"provider": "apaleo", "pms_reservation_id": "B-2", "pms_property_id": "NOPE", "status": "confirmed",
       "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-20T10:00:00Z",
       "guest": {}},
      {"provider": "apaleo", "pms_reservation_id": "B-3", "pms_property_id": "P-1", "status": "confirmed",
       "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-20T10:00:00Z",
       "guest": {"full_name": "C"}}]', 'req-b', null)$$,
  $$values (1, 'B-1', 'created', false), (2, 'B-2', 'failed', true), (3, 'B-3', 'created', false)$$,
  'a page is stored in one call; an element that fails does not undo the others'
);
select results_eq(
  $$select outcome from internal.upsert_reservations_v1('10000000-0000-0000-0000-0000000000a1', '[
      {"provider": "apaleo", "pms_reservation_id": "B-1", "pms_property_id": "P-1", "status": "cancelled",
       "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-19T10:00:00Z",
       "guest": {}},
      {"provider": "apaleo", "pms_reservation_id": "B-3", "pms_property_id": "P-1", "status": "cancelled",
       "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-21T10:00:00Z",
       "guest": {}}]', null, null)$$,
  $$values ('stale'), ('updated')$$,
  'older data is stale, newer data updates'
);

-- ---- who may call it ----------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-0000000000a1", "role": "authenticated"}', true);
select throws_ok(
  $$select internal.schedule_pms_syncs_v1()$$,
  '42501', null,
  'members cannot run the scheduler'
);
select throws_ok(
  $$select internal.finish_pms_sync_v1(gen_random_uuid(), 'w', true, '{}', null, 'ok', null)$$,
  '42501', null,
  'nor end sync runs'
);
reset role;

select * from finish();
rollback;
