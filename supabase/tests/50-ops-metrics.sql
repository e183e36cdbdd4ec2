-- The runbook's metrics: what each figure counts, and that the dashboard's schema (metrics)
-- never shows one tenant another tenant's figures. Tested as PostgREST applies RLS.
begin;
select plan(30);

insert into auth.users (id, email) values
  ('50000000-0000-0000-0000-00000000000a', 'ops-owner-a@example.com'),
  ('50000000-0000-0000-0000-00000000000b', 'ops-staff-a@example.com'),
  ('50000000-0000-0000-0000-00000000000c', 'ops-owner-b@example.com');
insert into public.tenants (id, name) values
  ('51000000-0000-0000-0000-00000000000a', 'Ops Hotel A'),
  ('51000000-0000-0000-0000-00000000000b', 'Ops Hotel B');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('51000000-0000-0000-0000-00000000000a', '50000000-0000-0000-0000-00000000000a', 'owner'),
  ('51000000-0000-0000-0000-00000000000a', '50000000-0000-0000-0000-00000000000b', 'staff'),
  ('51000000-0000-0000-0000-00000000000b', '50000000-0000-0000-0000-00000000000c', 'owner');
insert into public.waha_configurations (tenant_id, base_url, session_status) values
  ('51000000-0000-0000-0000-00000000000a', 'http://waha.a.test', 'WORKING'),
  ('51000000-0000-0000-0000-00000000000b', 'http://waha.b.test', 'SCAN_QR_CODE');
insert into public.pms_configurations (id, tenant_id, provider) values
  ('52000000-0000-0000-0000-00000000000a', '51000000-0000-0000-0000-00000000000a', 'generic'),
  ('52000000-0000-0000-0000-00000000000b', '51000000-0000-0000-0000-00000000000b', 'generic');

-- Webhooks of A in the last hour: 3 done, 1 dead, 1 waiting for a retry, 1 not tried yet; one
-- older than the window. B: 2 done.
insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload, status,
                                   attempts, received_at, processed_at, last_error)
select '51000000-0000-0000-0000-00000000000a', 'pms', 'generic', 'ops-a-' || g, 'reservation.updated', '{}',
       s.status::public.inbound_event_status, s.attempts, now() - interval '10 minutes',
       case when s.status in ('succeeded', 'dead') then now() end, s.err
from generate_series(1, 6) g
join (values (1, 'succeeded', 1, null), (2, 'succeeded', 1, null), (3, 'ignored', 1, null),
             (4, 'dead', 10, 'schema mismatch'), (5, 'pending', 2, 'PMS timeout'), (6, 'pending', 0, null))
  as s (n, status, attempts, err) on s.n = g;
insert into public.inbound_events (tenant_id, source, provider, event_id, event_type, payload, status,
                                   attempts, received_at, processed_at)
values ('51000000-0000-0000-0000-00000000000a', 'pms', 'generic', 'ops-a-old', 'reservation.updated', '{}',
        'dead', 10, now() - interval '3 hours', now() - interval '3 hours'),
       ('51000000-0000-0000-0000-00000000000b', 'pms', 'generic', 'ops-b-1', 'reservation.updated', '{}',
        'succeeded', 1, now() - interval '5 minutes', now()),
       ('51000000-0000-0000-0000-00000000000b', 'pms', 'generic', 'ops-b-2', 'reservation.updated', '{}',
        'succeeded', 1, now() - interval '5 minutes', now());

-- Messages of A: 4 sent in the window (1 delivered, 1 read), 1 failed (retry pending), 1 dead.
insert into public.message_logs (tenant_id, template_key, dedupe_key, status, waha_message_id, sent_at,
                                 last_error, attempts)
values
  ('51000000-0000-0000-0000-00000000000a', 't', 'ops-m1', 'sent', 'w1', now() - interval '5 minutes', null, 1),
  ('51000000-0000-0000-0000-00000000000a', 't', 'ops-m2', 'sent', 'w2', now() - interval '5 minutes', null, 1),
  ('51000000-0000-0000-0000-00000000000a', 't', 'ops-m3', 'delivered', 'w3', now() - interval '5 minutes', null, 1),
  ('51000000-0000-0000-0000-00000000000a', 't', 'ops-m4', 'read', 'w4', now() - interval '5 minutes', null, 1),
  ('51000000-0000-0000-0000-00000000000a', 't', 'ops-m5', 'failed', null, null, 'WAHA 502', 2),
  ('51000000-0000-0000-0000-00000000000a', 't', 'ops-m6', 'dead', null, null, 'invalid number', 1),
  ('51000000-0000-0000-0000-00000000000b', 't', 'ops-m7', 'read', 'w7', now() - interval '5 minutes', null, 1);

-- Syncs: A finished one in 10 s; B's failed with 3 reservations it could not store.
insert into public.sync_jobs (tenant_id, pms_configuration_id, kind, trigger, status, started_at, finished_at,
                              failed_count, error)
values
  ('51000000-0000-0000-0000-00000000000a', '52000000-0000-0000-0000-00000000000a', 'incremental', 'schedule',
   'succeeded', now() - interval '20 seconds', now() - interval '10 seconds', 0, null),
  ('51000000-0000-0000-0000-00000000000b', '52000000-0000-0000-0000-00000000000b', 'incremental', 'schedule',
   'failed', now() - interval '20 seconds', now() - interval '15 seconds', 3, 'PMS 401');

-- ---- as the back end (every tenant) ---------------------------------------------------------
select results_eq(
  $$select webhooks_received, webhooks_succeeded, webhooks_failed, webhooks_in_flight, webhook_success_rate,
           webhook_failure_rate
    from metrics.tenant_metrics(now() - interval '1 hour', now() + interval '1 second',
                                '51000000-0000-0000-0000-00000000000a')$$,
  $$values (6::bigint, 3::bigint, 2::bigint, 1::bigint, 0.6::numeric, 0.4::numeric)$$,
  'webhooks received in the window: finished ones count, dead or retrying ones are failures, new ones wait'
);

select results_eq(
  $$select messages_sent, messages_delivered, messages_read, messages_failed, messages_dead,
           message_delivery_rate, message_failure_rate
    from metrics.tenant_metrics(now() - interval '1 hour', now() + interval '1 second',
                                '51000000-0000-0000-0000-00000000000a')$$,
  $$values (4::bigint, 2::bigint, 1::bigint, 1::bigint, 1::bigint, 0.5::numeric, 0.3333::numeric)$$,
  'messages: delivery rate over sent ones, failure rate over sent plus failed'
);

select results_eq(
  $$select tenant_name, syncs_finished, syncs_failed, sync_seconds_avg, reservations_failed_to_sync
    from metrics.tenant_metrics(now() - interval '1 hour', now() + interval '1 second')
    where tenant_id in ('51000000-0000-0000-0000-00000000000a', '51000000-0000-0000-0000-00000000000b')$$,
  $$values ('Ops Hotel A', 1::bigint, 0::bigint, 10.000::numeric, 0::bigint),
           ('Ops Hotel B', 1::bigint, 1::bigint, null::numeric, 3::bigint)$$,
  'sync completion time and failed reservation syncs per tenant'
);

select is(
  (select webhooks_received from metrics.tenant_metrics(now() - interval '4 hours', now() - interval '2 hours',
                                                         '51000000-0000-0000-0000-00000000000a')),
  1::bigint,
  'the window decides which webhooks count'
);

select throws_ok(
  $$select * from metrics.tenant_metrics(now(), now() - interval '1 hour')$$,
  '22023',
  'the window needs p_since < p_until',
  'an empty window is refused'
);

select results_eq(
  $$select inbound_due, inbound_retrying, inbound_dead, messages_retrying, messages_dead, retry_depth, dead_letters
    from metrics.queue_depths where tenant_id = '51000000-0000-0000-0000-00000000000a'$$,
  $$values (2::bigint, 1::bigint, 2::bigint, 1::bigint, 1::bigint, 2::bigint, 3::bigint)$$,
  'queue depths now: due, retrying and dead rows of both queues'
);

select results_eq(
  $$select tenant_name, session_status, is_connected from metrics.waha_sessions
    where tenant_id in ('51000000-0000-0000-0000-00000000000a', '51000000-0000-0000-0000-00000000000b')
    order by tenant_name$$,
  $$values ('Ops Hotel A', 'WORKING', true), ('Ops Hotel B', 'SCAN_QR_CODE', false)$$,
  'WAHA session status per tenant'
);

update public.pms_configurations set health = 'failing', last_error = 'connection refused'
where id = '52000000-0000-0000-0000-00000000000b';
select results_eq(
  $$select health, failing_since is not null, last_sync_status from metrics.pms_health
    where tenant_id = '51000000-0000-0000-0000-00000000000b'$$,
  $$values ('failing', true, 'failed')$$,
  'PMS health shows since when a configuration fails and how its last sync ended'
);
update public.pms_configurations set health = 'ok' where id = '52000000-0000-0000-0000-00000000000b';
select is(
  (select failing_since from metrics.pms_health where tenant_id = '51000000-0000-0000-0000-00000000000b'),
  null,
  'a recovered PMS is no longer in an outage'
);

-- ---- as the owner of A ----------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "50000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);

select results_eq(
  $$select tenant_name from metrics.tenant_metrics()$$,
  array['Ops Hotel A'],
  'a member gets the figures of their own tenant only'
);
select is_empty(
  $$select * from metrics.tenant_metrics(p_tenant_id => '51000000-0000-0000-0000-00000000000b')$$,
  'asking for another tenant by id gives nothing'
);
select results_eq(
  $$select webhooks_received, messages_sent from metrics.tenant_metrics(now() - interval '1 hour', now() + interval '1 second')$$,
  $$values (6::bigint, 4::bigint)$$,
  'and the figures are the same ones the back end sees'
);
select results_eq('select tenant_name from metrics.queue_depths', array['Ops Hotel A'],
  'queue depths: own tenant only');
select results_eq('select tenant_name from metrics.waha_sessions', array['Ops Hotel A'],
  'WAHA sessions: own tenant only');
select results_eq('select tenant_name from metrics.pms_health', array['Ops Hotel A'],
  'PMS health: own tenant only');
select throws_ok('select * from ops.auth_metrics()', '42501', null,
  'platform figures (Supabase Auth) are not for tenants');
select throws_ok('select * from ops.database_metrics()', '42501', null,
  'nor are database statistics');
select throws_ok('select * from ops.state_history', '42501', null,
  'nor the request history');

-- ---- a staff member tries an admin call: denied, and counted although the error rolls back ----
select set_config('request.jwt.claims',
  '{"sub": "50000000-0000-0000-0000-00000000000b", "role": "authenticated"}', true);
reset role;
create temporary table denied_before on commit drop as
select case when is_called then last_value else 0 end as n from ops.denied_calls_seq;
set local role authenticated;
select throws_ok(
  $$select public.replay_inbound_event(
      (select id from public.inbound_events where event_id = 'ops-a-4'))$$,
  'P0002', null,
  'staff cannot replay an event (answered as if it did not exist)'
);
reset role;
select is(
  (select case when is_called then last_value else 0 end from ops.denied_calls_seq) - (select n from denied_before),
  1::bigint,
  'the denied call advanced the denial counter, which the rollback of the call did not undo'
);

-- ---- anon -----------------------------------------------------------------------------------
set local role anon;
select throws_ok('select * from metrics.tenant_metrics()', '42501', null, 'anon cannot use the metrics schema');
reset role;

-- ---- platform figures (the service role) ------------------------------------------------------
insert into auth.audit_log_entries (id, payload, created_at)
select gen_random_uuid(), json_build_object('action', a, 'log_type', 'account'), now() - interval '10 minutes'
from unnest(array['login', 'login', 'token_refreshed', 'token_revoked', 'token_refreshed', 'token_revoked',
                  'token_refreshed', 'token_revoked', 'user_signedup', 'logout']) a;
insert into auth.audit_log_entries (id, payload, created_at)
values (gen_random_uuid(), '{"action": "login"}', now() - interval '2 hours');

select results_eq(
  $$select logins, signups, logouts, token_refreshes, token_revocations, token_refreshes_per_hour
    from ops.auth_metrics(now() - interval '1 hour', now())$$,
  $$values (2::bigint, 1::bigint, 1::bigint, 3::bigint, 3::bigint, 3.00::numeric)$$,
  'Supabase Auth''s audit log gives logins, sign-ups and the token refresh (expiration) rate'
);

delete from ops.password_attempts;
select is((select failed_logins from ops.auth_metrics()), null::bigint,
  'failed logins are unknown (null) until the password verification hook reports');
select is(
  internal.hook_password_verification_attempt('{"user_id": "50000000-0000-0000-0000-00000000000a", "valid": false}'),
  '{"decision": "continue"}'::jsonb,
  'the hook only counts: Supabase Auth decides'
);
select internal.hook_password_verification_attempt('{"user_id": "50000000-0000-0000-0000-00000000000a", "valid": false}');
select internal.hook_password_verification_attempt('{"user_id": "50000000-0000-0000-0000-00000000000a", "valid": true}');
select is((select failed_logins from ops.auth_metrics(now() - interval '1 hour', now() + interval '1 second')),
  2::bigint, 'failed password sign-ins are counted');
select is(
  internal.hook_password_verification_attempt('{"user_id": "not-a-uuid", "valid": false}'),
  '{"decision": "continue"}'::jsonb,
  'a malformed hook event never blocks a sign-in'
);

-- Cumulative counters become figures per window; a counter reset (server restart) counts from 0.
delete from ops.samples where name = 'test.counter';
insert into ops.samples (name, taken_at, value) values
  ('test.counter', now() - interval '20 minutes', 100),
  ('test.counter', now() - interval '12 minutes', 104),
  ('test.counter', now() - interval '8 minutes', 110),
  ('test.counter', now() - interval '4 minutes', 3),
  ('test.counter', now() - interval '1 minute', 5);
select is(ops.counter_increase('test.counter', now() - interval '10 minutes'), 11::numeric,
  'counter increase over the window: 104 -> 110 (+6), a reset (+3 since it), then 5 (+2)');

select ok(
  (select connections_used >= 1 and connections_max > 0 and connection_usage > 0 from ops.database_metrics()),
  'connection pool usage comes from pg_stat_activity'
);
select is((select statements_available from ops.database_metrics()),
  (select exists (select 1 from pg_extension where extname = 'pg_stat_statements')
      and current_setting('shared_preload_libraries') ~ 'pg_stat_statements'),
  'pg_stat_statements is used only when it is installed and loaded');
select lives_ok('select * from ops.slow_queries(0)',
  'slow queries are listed whether or not pg_stat_statements is there');

select * from finish();
rollback;
