-- Operations, part 3: the runbook's alert thresholds as data, evaluated every minute by pg_cron.
--
-- An alert opens once per (rule, tenant) when its figure crosses the threshold, stays open (its
-- value refreshed) while the condition holds, and resolves by itself when it no longer does.
-- Opening and resolving queue notifications, sent through pg_net to the on-call webhook and,
-- for tenant-facing rules, to the tenant's notification_url; their delivery is checked against
-- pg_net's responses and retried, since pg_net itself never retries.

create extension if not exists pg_net with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;

-- ============================================================================================
-- Tables
-- ============================================================================================

-- The figures a rule can watch. scope: per tenant, or one figure for the whole platform.
create table ops.metric_catalog (
  name text primary key,
  scope text not null check (scope in ('tenant', 'platform')),
  unit text not null,
  description text not null
);

insert into ops.metric_catalog (name, scope, unit, description) values
  ('message_failure_rate', 'tenant', 'ratio',
   'messages failed or dead / (sent + failed + dead) in the window (metrics.tenant_metrics)'),
  ('webhook_failure_rate', 'tenant', 'ratio',
   'webhooks received in the window now dead or waiting for a retry / finished ones'),
  ('failed_reservation_syncs', 'tenant', 'count',
   'sync jobs failed plus reservations a sync could not store, in the window'),
  ('retry_queue_depth', 'tenant', 'rows', 'rows waiting for a retry now (metrics.queue_depths)'),
  ('dead_letters', 'tenant', 'rows', 'dead inbound events and messages now'),
  ('waha_disconnected_minutes', 'tenant', 'minutes',
   'minutes the WhatsApp session has not been WORKING (0 when it is)'),
  ('pms_failing_minutes', 'tenant', 'minutes',
   'minutes an active PMS configuration has been failing (0 when healthy)'),
  ('db_connection_usage', 'platform', 'ratio', 'client connections / usable max_connections now'),
  ('db_connection_errors', 'platform', 'count',
   'sessions ended by a fatal error in the window (pg_stat_database.sessions_fatal)'),
  ('slow_query_seconds', 'platform', 'seconds',
   'longest running query now, or slowest statement mean over the last minute (pg_stat_statements)'),
  ('auth_probe_failures', 'platform', 'count',
   'consecutive failed probes of the Supabase Auth health endpoint (ops.settings.auth_health_url)'),
  ('auth_refresh_failures', 'platform', 'count',
   'refresh-token failures reported as samples named auth.refresh_failures'),
  ('failed_logins', 'platform', 'count',
   'failed password sign-ins in the window (password verification hook)'),
  ('denied_calls', 'platform', 'count', 'admin calls refused for lack of tenant rights in the window');

create table ops.alert_rules (
  key text primary key check (key ~ '^[a-z][a-z0-9_]{1,62}$'),
  severity text not null check (severity in ('critical', 'warning')),
  metric text not null references ops.metric_catalog (name),
  comparison text not null default '>' check (comparison in ('>', '>=', '<', '<=')),
  threshold numeric not null,
  -- The window rates and counts are measured over (state figures ignore it).
  lookback interval not null default '15 minutes' check (lookback between interval '1 minute' and interval '1 day'),
  -- Fewer observations than this in the window never fire (2 failures of 3 is not a 66% rate).
  min_samples integer not null default 0 check (min_samples >= 0),
  -- Also tell the tenant (tenants.notification_url) when the alert opens and resolves.
  notify_tenant boolean not null default false,
  enabled boolean not null default true,
  summary text not null,
  runbook text not null,
  updated_at timestamptz not null default now()
);

create trigger alert_rules_set_updated_at before update on ops.alert_rules
for each row execute function private.set_updated_at();

-- RUNBOOK.md "Alert Thresholds", plus the tenant-facing incidents of "PMS Down" and "WAHA Down".
insert into ops.alert_rules (key, severity, metric, comparison, threshold, lookback, min_samples,
                             notify_tenant, summary, runbook) values
  ('message_delivery_failure_critical', 'critical', 'message_failure_rate', '>', 0.10, '15 minutes', 10, false,
   'Message delivery failure rate above 10%', 'WAHA Down'),
  ('message_delivery_failure_warning', 'warning', 'message_failure_rate', '>', 0.05, '15 minutes', 10, false,
   'Message delivery failure rate above 5%', 'WAHA Down'),
  ('webhook_processing_failure_critical', 'critical', 'webhook_failure_rate', '>', 0.05, '15 minutes', 10, false,
   'Webhook processing failure rate above 5%', 'Webhook Failures'),
  ('database_connection_errors', 'critical', 'db_connection_errors', '>', 0, '5 minutes', 0, false,
   'Database sessions ending in fatal errors', 'Database Issues'),
  ('database_connections_exhausted', 'critical', 'db_connection_usage', '>', 0.90, '1 minute', 0, false,
   'Database connections above 90% of the limit: new connections will be refused', 'Database Issues'),
  ('authentication_down', 'critical', 'auth_probe_failures', '>=', 2, '5 minutes', 0, false,
   'Supabase Auth health check failing', 'Database Issues'),
  ('slow_query', 'warning', 'slow_query_seconds', '>', 1, '5 minutes', 0, false,
   'A query is taking longer than 1 s', 'Database Issues'),
  ('retry_queue_depth_high', 'warning', 'retry_queue_depth', '>', 100, '1 minute', 0, false,
   'More than 100 rows waiting for a retry', 'WAHA Down'),
  ('session_refresh_failures', 'warning', 'auth_refresh_failures', '>', 0, '15 minutes', 0, false,
   'Session refresh failures', 'Database Issues'),
  ('whatsapp_disconnected', 'warning', 'waha_disconnected_minutes', '>', 10, '1 minute', 0, true,
   'WhatsApp session disconnected for more than 10 minutes: guest messages are on hold', 'WAHA Down'),
  ('pms_unreachable', 'warning', 'pms_failing_minutes', '>', 30, '1 minute', 0, true,
   'PMS unreachable for more than 30 minutes: reservations may be out of date', 'PMS Down');

create table ops.alerts (
  id bigint generated always as identity primary key,
  rule_key text not null references ops.alert_rules (key) on update cascade on delete cascade,
  -- null: a platform alert.
  tenant_id uuid references public.tenants (id) on delete cascade,
  severity text not null check (severity in ('critical', 'warning')),
  status text not null default 'open' check (status in ('open', 'resolved')),
  summary text not null,
  value numeric,
  threshold numeric,
  opened_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text,
  check ((status = 'resolved') = (resolved_at is not null))
);

-- One open alert per rule and tenant: it opens once and stays open.
create unique index alerts_one_open_idx
on ops.alerts (rule_key, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid))
where status = 'open';
create index alerts_tenant_idx on ops.alerts (tenant_id, opened_at desc);
create index alerts_opened_idx on ops.alerts (opened_at);

create table ops.notifications (
  id bigint generated always as identity primary key,
  alert_id bigint not null references ops.alerts (id) on delete cascade,
  event text not null check (event in ('opened', 'resolved')),
  target text not null check (target in ('oncall', 'tenant')),
  url text not null,
  body jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'delivered', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts > 0),
  next_attempt_at timestamptz not null default now(),
  net_request_id bigint,
  response_status integer,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  delivered_at timestamptz
);

create index notifications_due_idx on ops.notifications (next_attempt_at) where status = 'pending';
create index notifications_sent_idx on ops.notifications (net_request_id) where status = 'sent';
create index notifications_alert_idx on ops.notifications (alert_id);

create table ops.auth_probes (
  id bigint generated always as identity primary key,
  url text not null,
  net_request_id bigint,
  requested_at timestamptz not null default now(),
  checked_at timestamptz,
  ok boolean,
  status_code integer,
  error text,
  check ((checked_at is null) = (ok is null))
);

create index auth_probes_unchecked_idx on ops.auth_probes (requested_at) where checked_at is null;

-- pg_stat_statements is cumulative; the last snapshot turns it into "mean time over the last
-- minute" per statement.
create table ops.statement_snapshot (
  userid oid not null,
  queryid bigint not null,
  calls bigint not null,
  total_exec_time double precision not null,
  primary key (userid, queryid)
);

-- ============================================================================================
-- Sampling and probes (run at the start of each evaluation)
-- ============================================================================================
create function ops.sample_statements() returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_current text;
  v_first boolean := not exists (select 1 from ops.statement_snapshot);
  v_seconds numeric;
  v_query text;
  v_calls bigint;
begin
  select format(
    $q$select s.userid, s.queryid, sum(s.calls)::bigint as calls, sum(s.total_exec_time) as total_exec_time,
              min(left(s.query, 300)) as query
       from %I.pg_stat_statements s
       where s.dbid = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
         and s.queryid is not null
       group by s.userid, s.queryid$q$, n.nspname)
  into v_current
  from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pg_stat_statements';

  -- A statement new since the last snapshot, or whose statistics were reset, counts from zero.
  execute format(
    $q$select round((d.dt / d.dc / 1000)::numeric, 3), d.query, d.dc
       from (
         select c.query,
                case when p.calls is null or c.calls < p.calls then c.calls else c.calls - p.calls end as dc,
                case when p.calls is null or c.calls < p.calls then c.total_exec_time
                     else c.total_exec_time - p.total_exec_time end as dt
         from (%s) c
         left join ops.statement_snapshot p on p.userid = c.userid and p.queryid = c.queryid
       ) d
       where d.dc > 0
       order by d.dt / d.dc desc
       limit 1$q$, v_current)
  into v_seconds, v_query, v_calls;

  delete from ops.statement_snapshot;
  execute format(
    $q$insert into ops.statement_snapshot (userid, queryid, calls, total_exec_time)
       select c.userid, c.queryid, c.calls, c.total_exec_time from (%s) c$q$, v_current);

  -- The first snapshot has nothing to compare with: all-time means are not "the last minute".
  if not v_first then
    perform ops.record_sample('pg.slowest_statement_seconds', coalesce(v_seconds, 0),
                              jsonb_build_object('query', v_query, 'calls', v_calls));
  end if;
end
$$;

create function ops.take_samples() returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_denied bigint;
begin
  select case when s.is_called then s.last_value else 0 end into v_denied from ops.denied_calls_seq s;
  perform ops.record_sample('denied_calls', v_denied);
  perform ops.record_sample('pg.sessions_fatal',
    (select d.sessions_fatal from pg_catalog.pg_stat_database d where d.datname = current_database()));
  if ops.statements_available() then
    perform ops.sample_statements();
  end if;
end
$$;

-- Reads the outcome of earlier probes from pg_net's responses, then sends the next one.
create function ops.probe_auth() returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_url text;
  v_headers jsonb;
  v_request bigint;
begin
  with answered as (
    select p.id, r.status_code, r.timed_out, r.error_msg
    from ops.auth_probes p
    join net._http_response r on r.id = p.net_request_id
    where p.checked_at is null
    for update of p skip locked
  )
  update ops.auth_probes p
  set checked_at = now(),
      status_code = a.status_code,
      ok = coalesce(a.status_code between 200 and 299 and not coalesce(a.timed_out, false), false),
      error = case
        when a.status_code between 200 and 299 and not coalesce(a.timed_out, false) then null
        else coalesce(a.error_msg, case when a.timed_out then 'timed out' end, 'HTTP ' || a.status_code)
      end
  from answered a
  where p.id = a.id;

  with silent as (
    select p.id from ops.auth_probes p
    where p.checked_at is null and p.requested_at < now() - interval '2 minutes'
    for update skip locked
  )
  update ops.auth_probes p
  set checked_at = now(), ok = false, error = 'no response within 2 minutes'
  from silent s
  where p.id = s.id;

  select s.auth_health_url, s.auth_health_headers into v_url, v_headers from ops.settings s;
  if v_url is null then
    return;
  end if;
  v_request := net.http_get(url := v_url, headers := v_headers, timeout_milliseconds := 5000);
  insert into ops.auth_probes (url, net_request_id) values (v_url, v_request);
end
$$;

-- ============================================================================================
-- Measuring
-- ============================================================================================
create function ops.compare(p_value numeric, p_comparison text, p_threshold numeric) returns boolean
language sql immutable
set search_path = ''
as $$
  select case p_comparison
    when '>' then p_value > p_threshold
    when '>=' then p_value >= p_threshold
    when '<' then p_value < p_threshold
    when '<=' then p_value <= p_threshold
  end
$$;

-- Every figure of the catalogue for a window ending now: one row per tenant for tenant figures,
-- one row (tenant_id null) per platform figure. A figure that is not measured here (no Auth
-- URL configured, no refresh-failure samples ever) has no row, so its rules cannot fire.
create function ops.measurements(p_lookback interval)
returns table (metric text, tenant_id uuid, value numeric, samples bigint)
language plpgsql stable
set search_path = ''
as $$
declare
  v_since timestamptz := now() - p_lookback;
  v_db record;
  v_auth record;
begin
  return query
  select u.metric, m.tenant_id, u.value, u.samples
  from metrics.tenant_metrics(v_since, now()) m
  cross join lateral (values
    ('message_failure_rate', coalesce(m.message_failure_rate, 0),
     m.messages_sent + m.messages_failed + m.messages_dead),
    ('webhook_failure_rate', coalesce(m.webhook_failure_rate, 0), m.webhooks_succeeded + m.webhooks_failed),
    ('failed_reservation_syncs', (m.syncs_failed + m.reservations_failed_to_sync)::numeric, m.syncs_finished)
  ) as u (metric, value, samples);

  return query
  select u.metric, q.tenant_id, u.value, 1::bigint
  from metrics.queue_depths q
  cross join lateral (values
    ('retry_queue_depth', q.retry_depth::numeric),
    ('dead_letters', q.dead_letters::numeric)
  ) as u (metric, value);

  return query
  select 'waha_disconnected_minutes'::text, w.tenant_id,
         case when w.session_status = 'WORKING' then 0::numeric
              else round((extract(epoch from now() - w.status_changed_at) / 60)::numeric, 2) end,
         1::bigint
  from public.waha_configurations w;

  return query
  select 'pms_failing_minutes'::text, c.tenant_id,
         coalesce(max(round((extract(epoch from now() - o.failing_since) / 60)::numeric, 2)), 0),
         1::bigint
  from public.pms_configurations c
  left join ops.pms_outages o on o.pms_configuration_id = c.id
  where c.is_active
  group by c.tenant_id;

  select * into v_db from ops.database_metrics();
  return query values
    ('db_connection_usage'::text, null::uuid, v_db.connection_usage, 1::bigint),
    ('db_connection_errors', null, ops.counter_increase('pg.sessions_fatal', v_since), 1),
    ('denied_calls', null, ops.counter_increase('denied_calls', v_since), 1),
    ('slow_query_seconds', null,
     greatest(v_db.longest_query_seconds,
              coalesce((select max(s.value) from ops.samples s
                        where s.name = 'pg.slowest_statement_seconds' and s.taken_at >= v_since), 0)),
     1);

  select * into v_auth from ops.auth_metrics(v_since, now());
  if v_auth.failed_logins is not null then
    return query values ('failed_logins'::text, null::uuid, v_auth.failed_logins::numeric, 1::bigint);
  end if;
  if exists (select 1 from ops.samples s where s.name = 'auth.refresh_failures') then
    return query values ('auth_refresh_failures'::text, null::uuid, coalesce(v_auth.refresh_failures, 0), 1::bigint);
  end if;
  if (select s.auth_health_url from ops.settings s) is not null then
    return query
    select 'auth_probe_failures'::text, null::uuid, count(*)::numeric, 1::bigint
    from ops.auth_probes p
    where p.checked_at is not null
      and p.requested_at >= now() - interval '1 hour'
      and p.id > coalesce((select max(q.id) from ops.auth_probes q where q.ok), 0);
  end if;
end
$$;

-- ============================================================================================
-- Notifications
-- ============================================================================================

-- Standard Webhooks headers; signed (v1, HMAC-SHA256 over "id.timestamp.body") when a secret
-- is given. pg_net sends the body as body::text, which is what is signed here.
create function ops.notification_headers(p_id bigint, p_body jsonb, p_secret text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_id text := 'ntf_' || p_id;
  v_ts text := floor(extract(epoch from now()))::bigint::text;
  v_headers jsonb := jsonb_build_object(
    'Content-Type', 'application/json', 'webhook-id', v_id, 'webhook-timestamp', v_ts);
begin
  if p_secret is null then
    return v_headers;
  end if;
  return v_headers || jsonb_build_object('webhook-signature', 'v1,' || encode(
    extensions.hmac(convert_to(v_id || '.' || v_ts || '.' || p_body::text, 'UTF8'),
                    decode(substr(p_secret, 7), 'base64'), 'sha256'),
    'base64'));
end
$$;

-- Checks sent notifications against pg_net's responses (2xx: delivered; otherwise retried with
-- backoff up to max_attempts), then sends the due ones. Returns how many it sent.
create function ops.dispatch_notifications() returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_secret text := (select s.oncall_webhook_secret from ops.settings s);
  v_row record;
  v_request bigint;
  v_sent integer := 0;
begin
  with answered as (
    select n.id, r.status_code, r.timed_out, r.error_msg,
           coalesce(r.status_code between 200 and 299 and not coalesce(r.timed_out, false), false) as ok
    from ops.notifications n
    join net._http_response r on r.id = n.net_request_id
    where n.status = 'sent'
    for update of n skip locked
  )
  update ops.notifications n
  set status = case when a.ok then 'delivered' when n.attempts >= n.max_attempts then 'failed' else 'pending' end,
      delivered_at = case when a.ok then now() end,
      response_status = a.status_code,
      last_error = case when a.ok then null
        else coalesce(a.error_msg, case when a.timed_out then 'timed out' end, 'HTTP ' || a.status_code) end,
      next_attempt_at = now() + least(interval '1 minute' * power(2, n.attempts - 1), interval '30 minutes')
  from answered a
  where n.id = a.id;

  -- pg_net keeps responses for hours; no answer after 10 minutes means the request was lost.
  with lost as (
    select n.id from ops.notifications n
    where n.status = 'sent' and n.sent_at < now() - interval '10 minutes'
    for update skip locked
  )
  update ops.notifications n
  set status = case when n.attempts >= n.max_attempts then 'failed' else 'pending' end,
      last_error = 'no response within 10 minutes',
      next_attempt_at = now()
  from lost l
  where n.id = l.id;

  for v_row in
    select n.id, n.url, n.body, n.target from ops.notifications n
    where n.status = 'pending' and n.next_attempt_at <= now()
    order by n.id
    limit 200
    for update skip locked
  loop
    v_request := net.http_post(
      url := v_row.url,
      body := v_row.body,
      headers := ops.notification_headers(v_row.id, v_row.body, case when v_row.target = 'oncall' then v_secret end),
      timeout_milliseconds := 5000);
    update ops.notifications n
    set status = 'sent', attempts = n.attempts + 1, net_request_id = v_request, sent_at = now()
    where n.id = v_row.id;
    v_sent := v_sent + 1;
  end loop;
  return v_sent;
end
$$;

-- ============================================================================================
-- Evaluation (pg_cron every minute; callable directly, e.g. by `ops alerts --evaluate`)
-- ============================================================================================

-- p_rules: only these rules (null: all). Evaluations run one at a time; rows another
-- transaction holds are skipped rather than waited for, so a long transaction elsewhere never
-- stalls the minute's run.
create function ops.evaluate_alerts(p_rules text[] default null)
returns table (alerts_opened integer, alerts_resolved integer, alerts_open integer, notifications_sent integer)
language plpgsql
set search_path = ''
as $$
declare
  v_opened integer;
  v_resolved integer;
  v_refreshed integer;
  v_oncall text := (select s.oncall_webhook_url from ops.settings s);
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ops.evaluate_alerts', 0));
  perform ops.take_samples();
  perform ops.probe_auth();

  with rules as (
    select r.* from ops.alert_rules r
    where r.enabled and (p_rules is null or r.key = any (p_rules))
  ),
  measured as (
    select r.key, r.metric, r.severity, r.comparison, r.threshold, r.min_samples, r.summary,
           m.tenant_id, m.value, m.samples
    from (select distinct x.lookback from rules x) l
    cross join lateral ops.measurements(l.lookback) m
    join rules r on r.lookback = l.lookback and r.metric = m.metric
  ),
  breaching as (
    select b.* from measured b
    where b.samples >= b.min_samples and ops.compare(b.value, b.comparison, b.threshold)
  ),
  -- A warning stays quiet while a critical rule on the same figure fires for the same tenant.
  effective as (
    select b.* from breaching b
    where b.severity = 'critical'
       or not exists (
         select 1 from breaching c
         where c.severity = 'critical' and c.metric = b.metric and c.tenant_id is not distinct from b.tenant_id)
  ),
  open_now as (
    select a.id, a.rule_key, a.tenant_id from ops.alerts a
    where a.status = 'open' and (p_rules is null or a.rule_key = any (p_rules))
    for update skip locked
  ),
  refreshed as (
    update ops.alerts a
    set last_seen_at = now(), value = e.value, threshold = e.threshold
    from open_now o
    join effective e on e.key = o.rule_key and e.tenant_id is not distinct from o.tenant_id
    where a.id = o.id
    returning a.id
  ),
  resolved as (
    update ops.alerts a
    set status = 'resolved', resolved_at = now(), last_seen_at = now()
    from open_now o
    where a.id = o.id
      and not exists (
        select 1 from effective e where e.key = o.rule_key and e.tenant_id is not distinct from o.tenant_id)
    returning a.*
  ),
  opened as (
    insert into ops.alerts (rule_key, tenant_id, severity, summary, value, threshold)
    select e.key, e.tenant_id, e.severity, e.summary, e.value, e.threshold
    from effective e
    where not exists (
      select 1 from ops.alerts a
      where a.status = 'open' and a.rule_key = e.key and a.tenant_id is not distinct from e.tenant_id)
    on conflict do nothing
    returning *
  ),
  changed as (
    select o.*, 'opened'::text as event from opened o
    union all
    select r.*, 'resolved'::text from resolved r
  ),
  messages as (
    select c.id as alert_id, c.event, c.tenant_id, r.notify_tenant, t.notification_url,
           jsonb_build_object(
             'type', 'alert.' || c.event,
             'alert', jsonb_build_object(
               'id', c.id, 'rule', c.rule_key, 'severity', c.severity, 'status', c.status,
               'summary', c.summary, 'metric', r.metric, 'comparison', r.comparison,
               'value', c.value, 'threshold', c.threshold, 'runbook', r.runbook,
               'tenant_id', c.tenant_id, 'tenant_name', t.name,
               'opened_at', c.opened_at, 'resolved_at', c.resolved_at)) as body
    from changed c
    join ops.alert_rules r on r.key = c.rule_key
    left join public.tenants t on t.id = c.tenant_id
  ),
  queued as (
    insert into ops.notifications (alert_id, event, target, url, body)
    select m.alert_id, m.event, 'oncall', v_oncall, m.body from messages m where v_oncall is not null
    union all
    select m.alert_id, m.event, 'tenant', m.notification_url, m.body from messages m
    where m.notify_tenant and m.tenant_id is not null and m.notification_url is not null
  )
  -- (queued runs although nothing reads it: data-modifying WITH parts always run, once.)
  select (select count(*)::integer from opened), (select count(*)::integer from resolved),
         (select count(*)::integer from refreshed)
  into v_opened, v_resolved, v_refreshed;

  return query select v_opened, v_resolved, v_opened + v_refreshed, ops.dispatch_notifications();
end
$$;

-- The on-call engineer's "Acknowledge Alert" (RUNBOOK.md, On-Call Actions).
create function ops.acknowledge_alert(p_alert_id bigint, p_by text) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from ops.alerts a where a.id = p_alert_id) then
    raise exception 'alert % not found', p_alert_id using errcode = 'no_data_found';
  end if;
  update ops.alerts a set acknowledged_at = now(), acknowledged_by = p_by
  where a.id = p_alert_id and a.acknowledged_at is null;
  return found;
end
$$;

-- Daily: keep operational history bounded.
create function ops.purge() returns void
language plpgsql
set search_path = ''
as $$
begin
  delete from ops.state_history h
  where h.at < now() - (select s.state_history_retention from ops.settings s);
  delete from ops.samples s where s.taken_at < now() - interval '2 days';
  delete from ops.auth_probes p where p.requested_at < now() - interval '2 days';
  delete from ops.password_attempts p where p.at < now() - interval '30 days';
  delete from ops.alerts a where a.status = 'resolved' and a.resolved_at < now() - interval '90 days';
end
$$;

-- ============================================================================================
-- The dashboard's view of alerts (its tenants' only; platform alerts are for the service role)
-- ============================================================================================
create view metrics.alerts with (security_invoker = true) as
select a.id, a.rule_key, a.severity, r.metric, a.tenant_id, a.status, a.summary, a.value, a.threshold,
       a.opened_at, a.last_seen_at, a.resolved_at, a.acknowledged_at, r.runbook
from ops.alerts a
join ops.alert_rules r on r.key = a.rule_key;

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table ops.metric_catalog enable row level security;
alter table ops.alert_rules enable row level security;
alter table ops.alerts enable row level security;
alter table ops.notifications enable row level security;
alter table ops.auth_probes enable row level security;
alter table ops.statement_snapshot enable row level security;

revoke all on ops.metric_catalog, ops.alert_rules, ops.alerts, ops.notifications, ops.auth_probes,
  ops.statement_snapshot from public, anon, authenticated;
grant all on ops.metric_catalog, ops.alert_rules, ops.alerts, ops.notifications, ops.auth_probes,
  ops.statement_snapshot to service_role;
grant select on ops.alerts, ops.alert_rules to authenticated;

create policy "Alerts are visible to members of their tenant"
on ops.alerts for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Alert rules are visible to signed-in users"
on ops.alert_rules for select to authenticated
using (true);

revoke all on metrics.alerts from public, anon, authenticated;
grant select on metrics.alerts to authenticated, service_role;

revoke all on function ops.sample_statements() from public, anon, authenticated;
revoke all on function ops.take_samples() from public, anon, authenticated;
revoke all on function ops.probe_auth() from public, anon, authenticated;
revoke all on function ops.compare(numeric, text, numeric) from public, anon, authenticated;
revoke all on function ops.measurements(interval) from public, anon, authenticated;
revoke all on function ops.notification_headers(bigint, jsonb, text) from public, anon, authenticated;
revoke all on function ops.dispatch_notifications() from public, anon, authenticated;
revoke all on function ops.evaluate_alerts(text[]) from public, anon, authenticated;
revoke all on function ops.acknowledge_alert(bigint, text) from public, anon, authenticated;
revoke all on function ops.purge() from public, anon, authenticated;
grant execute on function ops.sample_statements() to service_role;
grant execute on function ops.take_samples() to service_role;
grant execute on function ops.probe_auth() to service_role;
grant execute on function ops.compare(numeric, text, numeric) to service_role;
grant execute on function ops.measurements(interval) to service_role;
grant execute on function ops.notification_headers(bigint, jsonb, text) to service_role;
grant execute on function ops.dispatch_notifications() to service_role;
grant execute on function ops.evaluate_alerts(text[]) to service_role;
grant execute on function ops.acknowledge_alert(bigint, text) to service_role;
grant execute on function ops.purge() to service_role;

-- ============================================================================================
-- Schedules (cron.schedule with a job name replaces that job: re-runnable)
-- ============================================================================================
select cron.schedule('ops-evaluate-alerts', '* * * * *', 'select ops.evaluate_alerts()');
select cron.schedule('ops-purge', '23 3 * * *', 'select ops.purge()');
