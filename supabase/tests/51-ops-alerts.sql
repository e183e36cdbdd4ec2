-- Alerts: thresholds as data; an alert opens once, stays open while its condition holds and
-- resolves by itself; open and resolve notifications leave through pg_net (net.http_request_queue)
-- to the on-call webhook and, for tenant-facing rules, to that tenant's URL only.
--
-- Each evaluation here names the rules it exercises, so the pg_cron evaluation that may run
-- meanwhile (it cannot see this transaction's rows) and this test never touch the same alerts.
begin;
select plan(39);

insert into public.tenants (id, name, notification_url) values
  ('53000000-0000-0000-0000-00000000000a', 'Alert Hotel A', 'https://hotel-a.test/incidents'),
  ('53000000-0000-0000-0000-00000000000b', 'Alert Hotel B', 'https://hotel-b.test/incidents');
insert into public.waha_configurations (tenant_id, base_url, session_status) values
  ('53000000-0000-0000-0000-00000000000a', 'http://waha.a.test', 'SCAN_QR_CODE'),
  ('53000000-0000-0000-0000-00000000000b', 'http://waha.b.test', 'WORKING');
update ops.settings set oncall_webhook_url = 'https://oncall.test/hook',
                        oncall_webhook_secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

create temporary table rq on commit drop as select * from net.http_request_queue limit 0;
create function pg_temp.new_requests() returns setof net.http_request_queue
language sql as $$
  select q.* from net.http_request_queue q where q.id > coalesce((select max(r.id) from rq r), 0) order by q.id
$$;
create function pg_temp.mark_seen() returns void
language sql as $$ insert into rq select * from pg_temp.new_requests() $$;
select pg_temp.mark_seen();

-- ---- thresholds are data --------------------------------------------------------------------
select results_eq(
  $$select key, severity, metric, comparison, threshold from ops.alert_rules
    where key in ('message_delivery_failure_critical', 'message_delivery_failure_warning',
                  'webhook_processing_failure_critical', 'slow_query') order by key$$,
  $$values ('message_delivery_failure_critical', 'critical', 'message_failure_rate', '>', 0.10),
           ('message_delivery_failure_warning', 'warning', 'message_failure_rate', '>', 0.05),
           ('slow_query', 'warning', 'slow_query_seconds', '>', 1::numeric),
           ('webhook_processing_failure_critical', 'critical', 'webhook_failure_rate', '>', 0.05)$$,
  'the runbook''s thresholds are rows'
);
select set_eq(
  $$select severity || ':' || key from ops.alert_rules$$,
  array['critical:message_delivery_failure_critical', 'critical:webhook_processing_failure_critical',
        'critical:database_connection_errors', 'critical:database_connections_exhausted',
        'critical:authentication_down', 'warning:message_delivery_failure_warning', 'warning:slow_query',
        'warning:retry_queue_depth_high', 'warning:session_refresh_failures', 'warning:whatsapp_disconnected',
        'warning:pms_unreachable', 'warning:rls_refused_writes'],
  'every runbook alert has a rule'
);

-- ---- WhatsApp disconnected (tenant-facing) ----------------------------------------------------
select results_eq(
  $$select alerts_opened from ops.evaluate_alerts(array['whatsapp_disconnected'])$$,
  array[0],
  'a session down for less than 10 minutes is not an alert yet'
);

update public.waha_configurations set status_changed_at = now() - interval '25 minutes'
where tenant_id = '53000000-0000-0000-0000-00000000000a';

select results_eq(
  $$select alerts_opened, alerts_resolved, alerts_open, notifications_sent
    from ops.evaluate_alerts(array['whatsapp_disconnected'])$$,
  $$values (1, 0, 1, 2)$$,
  'a session down for 25 minutes opens one alert and sends two notifications'
);
select results_eq(
  $$select tenant_id, status, severity, value >= 25 from ops.alerts
    where rule_key = 'whatsapp_disconnected' and tenant_id in ('53000000-0000-0000-0000-00000000000a',
                                                                 '53000000-0000-0000-0000-00000000000b')$$,
  $$values ('53000000-0000-0000-0000-00000000000a'::uuid, 'open', 'warning', true)$$,
  'the alert is A''s, open, with the figure that crossed the threshold'
);

select results_eq(
  $$select url, method::text from pg_temp.new_requests()$$,
  $$values ('https://oncall.test/hook', 'POST'), ('https://hotel-a.test/incidents', 'POST')$$,
  'pg_net got one request to the on-call webhook and one to A''s URL, none to B''s'
);
select results_eq(
  $$select convert_from(body, 'UTF8')::jsonb #>> '{type}', convert_from(body, 'UTF8')::jsonb #>> '{alert,rule}',
           convert_from(body, 'UTF8')::jsonb #>> '{alert,tenant_name}', convert_from(body, 'UTF8')::jsonb #>> '{alert,status}',
           convert_from(body, 'UTF8')::jsonb #>> '{alert,runbook}'
    from pg_temp.new_requests()$$,
  $$values ('alert.opened', 'whatsapp_disconnected', 'Alert Hotel A', 'open', 'WAHA Down'),
           ('alert.opened', 'whatsapp_disconnected', 'Alert Hotel A', 'open', 'WAHA Down')$$,
  'both carry the opened alert: rule, tenant, status and the runbook section'
);

-- The on-call copy is signed (Standard Webhooks, v1 HMAC-SHA256 over id.timestamp.body).
select is(
  (select q.headers ->> 'webhook-signature' from pg_temp.new_requests() q where q.url = 'https://oncall.test/hook'),
  (select 'v1,' || encode(extensions.hmac(
            convert_to((q.headers ->> 'webhook-id') || '.' || (q.headers ->> 'webhook-timestamp') || '.'
                       || convert_from(q.body, 'UTF8'), 'UTF8'),
            decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'), 'sha256'), 'base64')
   from pg_temp.new_requests() q where q.url = 'https://oncall.test/hook'),
  'the on-call notification is signed over exactly the bytes pg_net sends'
);
select is(
  (select q.headers ? 'webhook-signature' from pg_temp.new_requests() q where q.url = 'https://hotel-a.test/incidents'),
  false,
  'the tenant copy carries ids but no signature (tenants have no notification secret)'
);

-- pg_net answers: on-call 200, the tenant's endpoint 503.
insert into net._http_response (id, status_code, content)
select q.id, case when q.url = 'https://oncall.test/hook' then 200 else 503 end, ''
from pg_temp.new_requests() q;
select pg_temp.mark_seen();

select results_eq(
  $$select alerts_opened, alerts_resolved, alerts_open, notifications_sent
    from ops.evaluate_alerts(array['whatsapp_disconnected'])$$,
  $$values (0, 0, 1, 0)$$,
  'the next minute: still one open alert, nothing new opened, nothing sent'
);
select is_empty('select * from pg_temp.new_requests()', 'no further request while the alert stays open');
select results_eq(
  $$select n.target, n.status, n.response_status, n.attempts from ops.notifications n
    join ops.alerts a on a.id = n.alert_id where a.tenant_id = '53000000-0000-0000-0000-00000000000a'
    order by n.target$$,
  $$values ('oncall', 'delivered', 200, 1), ('tenant', 'pending', 503, 1)$$,
  'a 2xx marks a notification delivered; a 503 puts it back for a retry'
);

update ops.notifications set next_attempt_at = now() where status = 'pending' and target = 'tenant'
  and alert_id in (select id from ops.alerts where tenant_id = '53000000-0000-0000-0000-00000000000a');
select results_eq(
  $$select notifications_sent from ops.evaluate_alerts(array['whatsapp_disconnected'])$$,
  array[1],
  'when its backoff is over the failed notification is sent again'
);
select results_eq(
  $$select url from pg_temp.new_requests()$$,
  array['https://hotel-a.test/incidents'],
  'to the same tenant URL'
);
insert into net._http_response (id, status_code, content) select q.id, 204, '' from pg_temp.new_requests() q;
select pg_temp.mark_seen();
select ops.dispatch_notifications();
select results_eq(
  $$select n.target, n.status, n.attempts from ops.notifications n
    join ops.alerts a on a.id = n.alert_id where a.tenant_id = '53000000-0000-0000-0000-00000000000a'
    order by n.target$$,
  $$values ('oncall', 'delivered', 1), ('tenant', 'delivered', 2)$$,
  'and is delivered on its second attempt'
);

select throws_ok(
  $$insert into ops.alerts (rule_key, tenant_id, severity, summary)
    values ('whatsapp_disconnected', '53000000-0000-0000-0000-00000000000a', 'warning', 'again')$$,
  '23505', null,
  'a second open alert for the same rule and tenant cannot exist'
);

-- The session comes back.
update public.waha_configurations set session_status = 'WORKING'
where tenant_id = '53000000-0000-0000-0000-00000000000a';
select results_eq(
  $$select alerts_opened, alerts_resolved, alerts_open, notifications_sent
    from ops.evaluate_alerts(array['whatsapp_disconnected'])$$,
  $$values (0, 1, 0, 2)$$,
  'when the session works again the alert resolves by itself'
);
select results_eq(
  $$select status, resolved_at is not null from ops.alerts
    where rule_key = 'whatsapp_disconnected' and tenant_id = '53000000-0000-0000-0000-00000000000a'$$,
  $$values ('resolved', true)$$,
  'resolved, with its time'
);
select results_eq(
  $$select url, convert_from(body, 'UTF8')::jsonb #>> '{type}', convert_from(body, 'UTF8')::jsonb #>> '{alert,status}'
    from pg_temp.new_requests()$$,
  $$values ('https://oncall.test/hook', 'alert.resolved', 'resolved'),
           ('https://hotel-a.test/incidents', 'alert.resolved', 'resolved')$$,
  'and the on-call engineer and the tenant hear that it resolved'
);
select pg_temp.mark_seen();
select results_eq(
  $$select alerts_opened, alerts_resolved, alerts_open from ops.evaluate_alerts(array['whatsapp_disconnected'])$$,
  $$values (0, 0, 0)$$,
  'a resolved alert stays resolved while all is well'
);

-- ---- message delivery failure: critical above 10%, warning above 5% -------------------------------
-- B: 17 sent, 3 dead (15%): critical. A: 14 sent, 1 failed (6.7%): warning.
-- (updated_at a minute ago: a window ends at now(), exclusive, and this transaction's now() is
-- the evaluation's too.)
insert into public.message_logs (tenant_id, template_key, dedupe_key, status, waha_message_id, sent_at,
                                 last_error, updated_at)
select '53000000-0000-0000-0000-00000000000b', 't', 'al-b-' || g,
       case when g <= 17 then 'sent' else 'dead' end::public.message_status,
       case when g <= 17 then 'wb-' || g end, case when g <= 17 then now() - interval '2 minutes' end,
       case when g > 17 then 'WAHA 500' end, now() - interval '1 minute'
from generate_series(1, 20) g;
insert into public.message_logs (tenant_id, template_key, dedupe_key, status, waha_message_id, sent_at,
                                 last_error, updated_at)
select '53000000-0000-0000-0000-00000000000a', 't', 'al-a-' || g,
       case when g <= 14 then 'sent' else 'failed' end::public.message_status,
       case when g <= 14 then 'wa-' || g end, case when g <= 14 then now() - interval '2 minutes' end,
       case when g > 14 then 'WAHA 502' end, now() - interval '1 minute'
from generate_series(1, 15) g;

select results_eq(
  $$select alerts_opened from ops.evaluate_alerts(
      array['message_delivery_failure_critical', 'message_delivery_failure_warning'])$$,
  array[2],
  'two tenants over a delivery threshold: two alerts'
);
select results_eq(
  $$select t.name, a.rule_key, a.severity, a.value from ops.alerts a join public.tenants t on t.id = a.tenant_id
    where a.status = 'open' and a.rule_key like 'message_delivery_failure_%'
      and a.tenant_id in ('53000000-0000-0000-0000-00000000000a', '53000000-0000-0000-0000-00000000000b')
    order by t.name$$,
  $$values ('Alert Hotel A', 'message_delivery_failure_warning', 'warning', 0.0667),
           ('Alert Hotel B', 'message_delivery_failure_critical', 'critical', 0.15)$$,
  'B (15%) gets the critical alert only, not also the warning; A (6.7%) the warning'
);
select results_eq(
  $$select url from pg_temp.new_requests()$$,
  array['https://oncall.test/hook', 'https://oncall.test/hook'],
  'delivery-rate alerts go to on-call only: they are not tenant-facing'
);
select pg_temp.mark_seen();

update ops.alert_rules set min_samples = 50 where key = 'message_delivery_failure_warning';
select results_eq(
  $$select alerts_resolved from ops.evaluate_alerts(array['message_delivery_failure_warning'])$$,
  array[1],
  'too few messages for the rule''s min_samples: no rate, and the warning resolves'
);
update ops.alert_rules set enabled = false where key = 'message_delivery_failure_critical';
select results_eq(
  $$select alerts_resolved from ops.evaluate_alerts(array['message_delivery_failure_critical'])$$,
  array[1],
  'a rule switched off resolves its open alerts'
);
select pg_temp.mark_seen();

-- ---- PMS unreachable for long (tenant-facing) ---------------------------------------------------
insert into public.pms_configurations (id, tenant_id, provider) values
  ('54000000-0000-0000-0000-00000000000b', '53000000-0000-0000-0000-00000000000b', 'generic');
update public.pms_configurations set health = 'failing' where id = '54000000-0000-0000-0000-00000000000b';
update ops.pms_outages set failing_since = now() - interval '45 minutes'
where pms_configuration_id = '54000000-0000-0000-0000-00000000000b';
select results_eq(
  $$select alerts_opened from ops.evaluate_alerts(array['pms_unreachable'])$$,
  array[1],
  'a PMS failing for 45 minutes opens an alert'
);
select results_eq(
  $$select url from pg_temp.new_requests()$$,
  array['https://oncall.test/hook', 'https://hotel-b.test/incidents'],
  'and tells B, whose PMS it is'
);
select pg_temp.mark_seen();

-- ---- Authentication down: Supabase Auth's health endpoint probed through pg_net -----------------
update ops.settings set auth_health_url = 'https://auth.test/auth/v1/health',
                        auth_health_headers = '{"apikey": "anon-key"}';
select ops.evaluate_alerts(array['authentication_down']);
select results_eq(
  $$select method::text, url, headers ->> 'apikey' from pg_temp.new_requests()$$,
  $$values ('GET', 'https://auth.test/auth/v1/health', 'anon-key')$$,
  'each evaluation probes the Auth health endpoint'
);

create function pg_temp.answer_probe(p_status integer) returns void
language sql as $$
  insert into net._http_response (id, status_code, content)
  select q.id, p_status, '' from pg_temp.new_requests() q where q.url like 'https://auth.test/%';
  select pg_temp.mark_seen();
$$;

select pg_temp.answer_probe(503);
select results_eq(
  $$select alerts_opened from ops.evaluate_alerts(array['authentication_down'])$$,
  array[0],
  'one failed probe is not an outage'
);
select pg_temp.answer_probe(503);
select results_eq(
  $$select alerts_opened from ops.evaluate_alerts(array['authentication_down'])$$,
  array[1],
  'two failed probes in a row: authentication is down'
);
select results_eq(
  $$select severity, tenant_id from ops.alerts where rule_key = 'authentication_down' and status = 'open'$$,
  $$values ('critical', null::uuid)$$,
  'a critical platform alert (no tenant)'
);
select results_eq(
  $$select url from pg_temp.new_requests() where url not like 'https://auth.test/%'$$,
  array['https://oncall.test/hook'],
  'platform alerts go to on-call only'
);
select pg_temp.mark_seen();
-- A probe nobody answers counts as failed after two minutes.
update ops.auth_probes set requested_at = now() - interval '3 minutes' where checked_at is null;
select ops.evaluate_alerts(array['authentication_down']);
select is(
  (select error from ops.auth_probes where checked_at is not null order by id desc limit 1),
  'no response within 2 minutes',
  'an unanswered probe is a failure'
);
select pg_temp.answer_probe(200);
select results_eq(
  $$select alerts_resolved from ops.evaluate_alerts(array['authentication_down'])$$,
  array[1],
  'one healthy answer resolves it'
);
select pg_temp.mark_seen();

-- ---- a platform rule written as data ---------------------------------------------------------
insert into ops.alert_rules (key, severity, metric, comparison, threshold, lookback, notify_tenant, summary, runbook)
values ('test_connections', 'warning', 'db_connection_usage', '>', 0, '1 minute', true, 'test', 'Database Issues');
select results_eq(
  $$select alerts_opened from ops.evaluate_alerts(array['test_connections'])$$,
  array[1],
  'a new rule row is evaluated like the shipped ones'
);
select is(
  (select count(*)::integer from ops.notifications n join ops.alerts a on a.id = n.alert_id
   where a.rule_key = 'test_connections' and n.target = 'tenant'),
  0,
  'a platform alert has no tenant to notify, even when the rule says notify_tenant'
);
select is(ops.acknowledge_alert((select id from ops.alerts where rule_key = 'test_connections'), 'on-call'), true,
  'the on-call engineer acknowledges it');

-- ---- what a tenant member sees of all this ------------------------------------------------------
insert into auth.users (id, email) values ('53100000-0000-0000-0000-00000000000a', 'alert-owner-a@example.com');
insert into public.tenant_members (tenant_id, user_id, role)
values ('53000000-0000-0000-0000-00000000000a', '53100000-0000-0000-0000-00000000000a', 'owner');
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "53100000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);
select results_eq(
  $$select distinct tenant_id from metrics.alerts$$,
  $$values ('53000000-0000-0000-0000-00000000000a'::uuid)$$,
  'a member sees their tenant''s alerts only: not B''s, not the platform''s'
);
select throws_ok('select * from ops.notifications', '42501', null,
  'nor where notifications went');
reset role;

select * from finish();
rollback;
