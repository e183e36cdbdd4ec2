-- The metrics screen's figures over time (metrics.tenant_metrics_series) and its alerts
-- (metrics.alerts): buckets on the property's clock, the same figures as tenant_metrics, and a
-- member sees their own tenant only.
begin;
select plan(12);

insert into auth.users (id, email) values
  ('54000000-0000-0000-0000-00000000000a', 'series-owner-a@example.com'),
  ('54000000-0000-0000-0000-00000000000b', 'series-owner-b@example.com');
insert into public.tenants (id, name) values
  ('54100000-0000-0000-0000-00000000000a', 'Series Hotel A'),
  ('54100000-0000-0000-0000-00000000000b', 'Series Hotel B');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('54100000-0000-0000-0000-00000000000a', '54000000-0000-0000-0000-00000000000a', 'owner'),
  ('54100000-0000-0000-0000-00000000000b', '54000000-0000-0000-0000-00000000000b', 'owner');

-- A: one message read in each of the first two hours, one dead in the last; B: one read.
insert into public.message_logs (tenant_id, template_key, dedupe_key, status, waha_message_id, sent_at,
                                 updated_at, last_error, attempts)
values
  ('54100000-0000-0000-0000-00000000000a', 't', 's-1', 'read', 'w1', '2026-03-28 21:30+00', '2026-03-28 21:30+00', null, 1),
  ('54100000-0000-0000-0000-00000000000a', 't', 's-2', 'read', 'w2', '2026-03-28 22:30+00', '2026-03-28 22:30+00', null, 1),
  ('54100000-0000-0000-0000-00000000000b', 't', 's-3', 'read', 'w3', '2026-03-28 22:30+00', '2026-03-28 22:30+00', null, 1),
  ('54100000-0000-0000-0000-00000000000a', 't', 's-4', 'dead', null, null, '2026-03-28 23:15+00', 'WAHA 500', 3);

-- ---- buckets on the property's clock --------------------------------------------------------
select results_eq(
  $$select since, until from metrics.tenant_metrics_series('2026-03-28 21:10+00', '2026-03-28 23:40+00', '1 hour',
      'Europe/Berlin', '54100000-0000-0000-0000-00000000000a')$$,
  $$values ('2026-03-28 21:00+00'::timestamptz, '2026-03-28 22:00+00'::timestamptz),
           ('2026-03-28 22:00+00', '2026-03-28 23:00+00'),
           ('2026-03-28 23:00+00', '2026-03-28 23:40+00')$$,
  'hourly buckets start at whole hours; the first covers p_since, the last ends at p_until'
);
select results_eq(
  $$select since, until from metrics.tenant_metrics_series('2026-03-28 21:10+00', '2026-03-28 23:40+00', '1 hour',
      'Asia/Kolkata', '54100000-0000-0000-0000-00000000000a')$$,
  $$values ('2026-03-28 20:30+00'::timestamptz, '2026-03-28 21:30+00'::timestamptz),
           ('2026-03-28 21:30+00', '2026-03-28 22:30+00'),
           ('2026-03-28 22:30+00', '2026-03-28 23:30+00'),
           ('2026-03-28 23:30+00', '2026-03-28 23:40+00')$$,
  'whole hours of the property''s clock, in a zone half an hour off UTC'
);
select results_eq(
  $$select since, until from metrics.tenant_metrics_series('2026-03-28 12:00+00', '2026-03-30 12:00+00', '1 day',
      'Europe/Berlin', '54100000-0000-0000-0000-00000000000a')$$,
  $$values ('2026-03-27 23:00+00'::timestamptz, '2026-03-28 23:00+00'::timestamptz),
           ('2026-03-28 23:00+00', '2026-03-29 22:00+00'),
           ('2026-03-29 22:00+00', '2026-03-30 12:00+00')$$,
  'days run from local midnight to local midnight; the day clocks go forward has 23 hours'
);
select results_eq(
  $$select count(*)::integer from metrics.tenant_metrics_series('2026-03-29 00:00+00', '2026-03-29 02:00+00',
      '30 minutes', 'Europe/Berlin', '54100000-0000-0000-0000-00000000000a') where since >= until$$,
  array[0],
  'no empty bucket where the local clock skips an hour'
);

-- ---- the figures are tenant_metrics' for each bucket ----------------------------------------
select results_eq(
  $$select messages_attempted, messages_delivered, messages_dead, message_delivery_rate, message_failure_rate
    from metrics.tenant_metrics_series('2026-03-28 21:10+00', '2026-03-28 23:40+00', '1 hour',
      'Europe/Berlin', '54100000-0000-0000-0000-00000000000a')$$,
  $$values (1::bigint, 1::bigint, 0::bigint, 1.0000::numeric, 0.0000::numeric),
           (1, 1, 0, 1.0000, 0.0000),
           (1, 0, 1, 0.0000, 1.0000)$$,
  'each bucket counts what happened in it, with the failure rate beside the delivery rate'
);
select results_eq(
  $$select m.messages_attempted from metrics.tenant_metrics('2026-03-28 22:00+00', '2026-03-28 23:00+00',
      '54100000-0000-0000-0000-00000000000a') m$$,
  $$select s.messages_attempted from metrics.tenant_metrics_series('2026-03-28 22:10+00', '2026-03-28 22:50+00',
      '1 hour', 'UTC', '54100000-0000-0000-0000-00000000000a') s where s.until = '2026-03-28 22:50+00'$$,
  'a bucket is tenant_metrics over the same window'
);

-- ---- bad input: a readable 22023 ------------------------------------------------------------
select throws_ok(
  $$select * from metrics.tenant_metrics_series(now(), now() - interval '1 hour', '1 hour')$$,
  '22023', 'the window needs p_since < p_until', 'an inverted window is refused'
);
select throws_ok(
  $$select * from metrics.tenant_metrics_series(now() - interval '30 days', now(), '1 minute')$$,
  '22023', null, 'too many buckets are refused'
);
select throws_ok(
  $$select * from metrics.tenant_metrics_series(now() - interval '1 day', now(), '1 hour', 'Mars/Olympus')$$,
  '22023', null, 'an unknown time zone is refused'
);

-- ---- as the owner of A ----------------------------------------------------------------------
insert into ops.alerts (rule_key, tenant_id, severity, summary, value, threshold)
values ('message_delivery_failure_critical', '54100000-0000-0000-0000-00000000000a', 'critical', 'x', 0.6, 0.1),
       ('whatsapp_disconnected', '54100000-0000-0000-0000-00000000000b', 'warning', 'x', 42, 10);

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "54000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);

select results_eq(
  $$select distinct tenant_name from metrics.tenant_metrics_series('2026-03-28 21:10+00', '2026-03-28 23:40+00',
      '1 hour', 'Europe/Berlin')$$,
  array['Series Hotel A'],
  'a member gets their own tenant''s series only'
);
select is_empty(
  $$select * from metrics.tenant_metrics_series('2026-03-28 21:10+00', '2026-03-28 23:40+00', '1 hour',
      'Europe/Berlin', '54100000-0000-0000-0000-00000000000b')$$,
  'asking for another tenant by id gives nothing'
);
select results_eq(
  $$select rule_key, comparison, lookback, runbook_url, value, threshold from metrics.alerts$$,
  $$values ('message_delivery_failure_critical'::text, '>'::text, '15 minutes'::interval,
            'docs/runbook.md#waha-down'::text, 0.6::numeric, 0.1::numeric)$$,
  'the alerts say how the value compares with the threshold, and where the runbook explains it'
);

reset role;
select * from finish();
rollback;
