-- Figures that say what they claim (issue 17).
--
-- 1. Every rate is over everything attempted, with the failure rate beside it. The delivery
--    rate used to be delivered / sent, so a tenant whose messages were 60% dead read 1.0: the
--    dead ones were never "sent". Now both rates share one denominator (messages attempted:
--    sent, failed or dead in the window, each message once), and what is neither delivered nor
--    failed (sent, not yet acknowledged) is the rest.
-- 2. Webhooks are counted apart for PMS and WAHA, and the ones the edge refused (401, 413, 415,
--    422: nothing stored) count as attempts that failed. The edge functions aggregate refusals in
--    memory and add them once a minute per (tenant, source, provider, status, reason), so a flood
--    of bad requests is a handful of upserts, never a write per request, and no body is kept.
-- 3. Alert texts name the value and the threshold that fired, and each rule links its runbook
--    section (session_refresh_failures and authentication_down pointed at "Database Issues").

-- ============================================================================================
-- Refusals at the edge, per minute
-- ============================================================================================
create table ops.webhook_refusals (
  minute timestamptz not null check (minute = date_trunc('minute', minute)),
  -- null: the caller's key matched no tenant (unknown key, or refused before the key was read).
  tenant_id uuid references public.tenants (id) on delete cascade,
  source public.event_source not null,
  provider text not null check (length(provider) between 1 and 32),
  status integer not null check (status between 400 and 499),
  -- The error code of the answer (e.g. invalid_signature, payload_too_large), never the body.
  reason text not null check (length(reason) between 1 and 64),
  count bigint not null check (count > 0)
);

create unique index webhook_refusals_key_idx on ops.webhook_refusals (
  minute, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), source, provider, status, reason);
create index webhook_refusals_tenant_idx on ops.webhook_refusals (tenant_id, minute);

alter table ops.webhook_refusals enable row level security;
revoke all on ops.webhook_refusals from public, anon, authenticated;
grant all on ops.webhook_refusals to service_role;
grant select on ops.webhook_refusals to authenticated;
create policy "Webhook refusals are visible to members of their tenant"
on ops.webhook_refusals for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

-- The edge functions' flush: [{minute, tenant_id, source, provider, status, reason, count}, ...].
-- Counts add up, so two isolates flushing the same minute (or a retried flush) never overwrite
-- each other. Returns the number of counter rows touched.
create function public.record_webhook_refusals_v1(p_counts jsonb) returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  v_rows integer;
begin
  if jsonb_typeof(p_counts) is distinct from 'array' then
    raise exception 'p_counts must be a JSON array' using errcode = 'invalid_parameter_value';
  end if;
  insert into ops.webhook_refusals as w (minute, tenant_id, source, provider, status, reason, count)
  select date_trunc('minute', (c ->> 'minute')::timestamptz),
         nullif(c ->> 'tenant_id', '')::uuid,
         (c ->> 'source')::public.event_source,
         c ->> 'provider',
         (c ->> 'status')::integer,
         c ->> 'reason',
         sum((c ->> 'count')::bigint)
  from jsonb_array_elements(p_counts) c
  -- A tenant deleted since the request was refused: keep the count, without the tenant.
  group by 1, 2, 3, 4, 5, 6
  on conflict (minute, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), source, provider,
               status, reason)
  do update set count = w.count + excluded.count;
  get diagnostics v_rows = row_count;
  return v_rows;
end
$$;

revoke all on function public.record_webhook_refusals_v1(jsonb) from public, anon, authenticated;
grant execute on function public.record_webhook_refusals_v1(jsonb) to service_role;

-- Refusals per tenant, source, provider and reason over a window (the on-call view of them).
create function ops.webhook_refusals(
  p_since timestamptz default now() - interval '1 hour',
  p_until timestamptz default now()
) returns table (tenant_id uuid, tenant_name text, source text, provider text, status integer, reason text,
                 refused bigint, first_minute timestamptz, last_minute timestamptz)
language sql stable
set search_path = ''
as $$
  select w.tenant_id, t.name, w.source::text, w.provider, w.status, w.reason, sum(w.count)::bigint,
         min(w.minute), max(w.minute)
  from ops.webhook_refusals w
  left join public.tenants t on t.id = w.tenant_id
  where w.minute >= date_trunc('minute', p_since) and w.minute < p_until
  group by w.tenant_id, t.name, w.source, w.provider, w.status, w.reason
  order by sum(w.count) desc, t.name, w.source, w.provider
$$;

revoke all on function ops.webhook_refusals(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function ops.webhook_refusals(timestamptz, timestamptz) to service_role;

select cron.schedule('ops-purge-webhook-refusals', '37 3 * * *',
  $$delete from ops.webhook_refusals where minute < now() - interval '30 days'$$);

-- ============================================================================================
-- Tenant figures: rates over everything attempted
-- ============================================================================================
drop function metrics.tenant_metrics(timestamptz, timestamptz, uuid);

-- One row per tenant the caller can see (optionally one tenant), for [p_since, p_until):
--  - webhooks, per source (pms, waha) and together: attempted = received and stored + refused
--    at the edge; succeeded = processed (or ignored); failed = dead or waiting for a retry,
--    plus refused; in flight = stored, not processed yet. success_rate = succeeded / attempted,
--    failure_rate = failed / attempted.
--  - syncs: jobs finished in the window, their duration, and reservations they failed to sync;
--    sync_failure_rate = failed / finished.
--  - messages: attempted = sent in the window, or failed or dead in it (each message once);
--    delivery_rate = delivered or read / attempted, failure_rate = failed or dead / attempted.
create function metrics.tenant_metrics(
  p_since timestamptz default now() - interval '1 hour',
  p_until timestamptz default now(),
  p_tenant_id uuid default null
) returns table (
  tenant_id uuid,
  tenant_name text,
  since timestamptz,
  until timestamptz,
  webhooks_attempted bigint,
  webhooks_received bigint,
  webhooks_succeeded bigint,
  webhooks_failed bigint,
  webhooks_refused bigint,
  webhooks_in_flight bigint,
  webhook_success_rate numeric,
  webhook_failure_rate numeric,
  pms_webhooks_attempted bigint,
  pms_webhooks_succeeded bigint,
  pms_webhooks_failed bigint,
  pms_webhooks_refused bigint,
  pms_webhook_success_rate numeric,
  pms_webhook_failure_rate numeric,
  waha_webhooks_attempted bigint,
  waha_webhooks_succeeded bigint,
  waha_webhooks_failed bigint,
  waha_webhooks_refused bigint,
  waha_webhook_success_rate numeric,
  waha_webhook_failure_rate numeric,
  syncs_finished bigint,
  syncs_failed bigint,
  sync_failure_rate numeric,
  sync_seconds_avg numeric,
  sync_seconds_p95 numeric,
  sync_seconds_max numeric,
  reservations_failed_to_sync bigint,
  messages_attempted bigint,
  messages_sent bigint,
  messages_delivered bigint,
  messages_read bigint,
  messages_failed bigint,
  messages_dead bigint,
  message_delivery_rate numeric,
  message_failure_rate numeric
)
language plpgsql stable
set search_path = ''
as $$
declare
  v_tenants uuid[];
begin
  if p_since is null or p_until is null or p_since >= p_until then
    raise exception 'the window needs p_since < p_until' using errcode = 'invalid_parameter_value';
  end if;
  -- The caller's tenants first, then each window through an index led by tenant_id
  -- (20261202003100 says why: RLS alone would read the whole platform's window).
  if private.is_service_caller() then
    select coalesce(array_agg(t.id), '{}') into v_tenants
    from public.tenants t where p_tenant_id is null or t.id = p_tenant_id;
  else
    select coalesce(array_agg(m.id), '{}') into v_tenants
    from private.tenant_ids_for() m (id) where p_tenant_id is null or m.id = p_tenant_id;
  end if;
  return query
  with stored as (
    select e.tenant_id, e.source,
           count(*) as received,
           count(*) filter (where e.status in ('succeeded', 'ignored')) as succeeded,
           count(*) filter (where e.status = 'dead' or (e.status = 'pending' and e.attempts > 0)) as failed,
           count(*) filter (where e.status = 'processing' or (e.status = 'pending' and e.attempts = 0)) as in_flight
    from public.inbound_events e
    where e.received_at >= p_since and e.received_at < p_until
      and e.tenant_id = any (v_tenants)
    group by e.tenant_id, e.source
  ),
  refused as (
    select r.tenant_id, r.source, sum(r.count) as refused
    from ops.webhook_refusals r
    where r.minute >= date_trunc('minute', p_since) and r.minute < p_until and r.tenant_id is not null
      and r.tenant_id = any (v_tenants)
    group by r.tenant_id, r.source
  ),
  by_source as (
    select coalesce(s.tenant_id, r.tenant_id) as tenant_id, coalesce(s.source, r.source)::text as source,
           coalesce(s.received, 0) as received, coalesce(s.succeeded, 0) as succeeded,
           coalesce(s.failed, 0) + coalesce(r.refused, 0) as failed, coalesce(r.refused, 0) as refused,
           coalesce(s.in_flight, 0) as in_flight,
           coalesce(s.received, 0) + coalesce(r.refused, 0) as attempted
    from stored s
    full join refused r on r.tenant_id = s.tenant_id and r.source = s.source
  ),
  webhooks as (
    select b.tenant_id,
           sum(b.attempted) as attempted, sum(b.received) as received, sum(b.succeeded) as succeeded,
           sum(b.failed) as failed, sum(b.refused) as refused, sum(b.in_flight) as in_flight,
           sum(b.attempted) filter (where b.source = 'pms') as pms_attempted,
           sum(b.succeeded) filter (where b.source = 'pms') as pms_succeeded,
           sum(b.failed) filter (where b.source = 'pms') as pms_failed,
           sum(b.refused) filter (where b.source = 'pms') as pms_refused,
           sum(b.attempted) filter (where b.source = 'waha') as waha_attempted,
           sum(b.succeeded) filter (where b.source = 'waha') as waha_succeeded,
           sum(b.failed) filter (where b.source = 'waha') as waha_failed,
           sum(b.refused) filter (where b.source = 'waha') as waha_refused
    from by_source b
    group by b.tenant_id
  ),
  syncs as (
    select j.tenant_id,
           count(*) as finished,
           count(*) filter (where j.status = 'failed') as failed,
           avg(extract(epoch from j.finished_at - j.started_at)) filter (where j.status = 'succeeded') as avg_s,
           percentile_cont(0.95) within group (order by extract(epoch from j.finished_at - j.started_at))
             filter (where j.status = 'succeeded') as p95_s,
           max(extract(epoch from j.finished_at - j.started_at)) filter (where j.status = 'succeeded') as max_s,
           sum(j.failed_count) as reservations_failed
    from public.sync_jobs j
    where j.finished_at >= p_since and j.finished_at < p_until
      and j.status in ('succeeded', 'failed')
      and j.tenant_id = any (v_tenants)
    group by j.tenant_id
  ),
  sent as (
    select m.tenant_id,
           count(*) as sent,
           count(*) filter (where m.status in ('delivered', 'read')) as delivered,
           count(*) filter (where m.status = 'read') as read
    from public.message_logs m
    where m.sent_at >= p_since and m.sent_at < p_until
      and m.tenant_id = any (v_tenants)
    group by m.tenant_id
  ),
  failing as (
    -- A message sent in the window that WhatsApp then rejected (ack -1) is already counted as
    -- sent: attempted counts it once.
    select m.tenant_id,
           count(*) filter (where m.status = 'failed') as failed,
           count(*) filter (where m.status = 'dead') as dead,
           count(*) filter (where m.sent_at >= p_since and m.sent_at < p_until) as also_sent
    from public.message_logs m
    where m.status in ('failed', 'dead') and m.updated_at >= p_since and m.updated_at < p_until
      and m.tenant_id = any (v_tenants)
    group by m.tenant_id
  ),
  messages as (
    select t.id as tenant_id,
           coalesce(x.sent, 0) + coalesce(f.failed, 0) + coalesce(f.dead, 0) - coalesce(f.also_sent, 0) as attempted,
           coalesce(x.sent, 0) as sent, coalesce(x.delivered, 0) as delivered, coalesce(x.read, 0) as read,
           coalesce(f.failed, 0) as failed, coalesce(f.dead, 0) as dead
    from public.tenants t
    left join sent x on x.tenant_id = t.id
    left join failing f on f.tenant_id = t.id
    where t.id = any (v_tenants)
  )
  select t.id, t.name, p_since, p_until,
         coalesce(w.attempted, 0)::bigint, coalesce(w.received, 0)::bigint, coalesce(w.succeeded, 0)::bigint,
         coalesce(w.failed, 0)::bigint, coalesce(w.refused, 0)::bigint, coalesce(w.in_flight, 0)::bigint,
         round(w.succeeded / nullif(w.attempted, 0), 4), round(w.failed / nullif(w.attempted, 0), 4),
         coalesce(w.pms_attempted, 0)::bigint, coalesce(w.pms_succeeded, 0)::bigint,
         coalesce(w.pms_failed, 0)::bigint, coalesce(w.pms_refused, 0)::bigint,
         round(w.pms_succeeded / nullif(w.pms_attempted, 0), 4), round(w.pms_failed / nullif(w.pms_attempted, 0), 4),
         coalesce(w.waha_attempted, 0)::bigint, coalesce(w.waha_succeeded, 0)::bigint,
         coalesce(w.waha_failed, 0)::bigint, coalesce(w.waha_refused, 0)::bigint,
         round(w.waha_succeeded / nullif(w.waha_attempted, 0), 4),
         round(w.waha_failed / nullif(w.waha_attempted, 0), 4),
         coalesce(s.finished, 0), coalesce(s.failed, 0), round(s.failed::numeric / nullif(s.finished, 0), 4),
         round(s.avg_s, 3), round(s.p95_s::numeric, 3), round(s.max_s, 3),
         coalesce(s.reservations_failed, 0)::bigint,
         m.attempted, m.sent, m.delivered, m.read, m.failed, m.dead,
         round(m.delivered::numeric / nullif(m.attempted, 0), 4),
         round((m.failed + m.dead)::numeric / nullif(m.attempted, 0), 4)
  from public.tenants t
  join messages m on m.tenant_id = t.id
  left join webhooks w on w.tenant_id = t.id
  left join syncs s on s.tenant_id = t.id
  where t.id = any (v_tenants)
  order by t.name, t.id;
end
$$;

revoke all on function metrics.tenant_metrics(timestamptz, timestamptz, uuid) from public, anon;
grant execute on function metrics.tenant_metrics(timestamptz, timestamptz, uuid) to authenticated, service_role;

-- The rules' figures: minimum samples are the attempts of the new definitions.
create or replace function ops.measurements(p_lookback interval)
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
    ('message_failure_rate', coalesce(m.message_failure_rate, 0), m.messages_attempted),
    ('webhook_failure_rate', coalesce(m.webhook_failure_rate, 0), m.webhooks_attempted),
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

update ops.metric_catalog set description = case name
  when 'message_failure_rate' then
    'messages failed or dead / messages attempted (sent, failed or dead) in the window (metrics.tenant_metrics)'
  when 'webhook_failure_rate' then
    'webhooks dead, waiting for a retry or refused at the edge / webhooks attempted (stored + refused) in the window'
  else description end
where name in ('message_failure_rate', 'webhook_failure_rate');

-- ============================================================================================
-- Alert texts: the value and threshold that fired, and a link to the runbook section
-- ============================================================================================
alter table ops.alert_rules add column runbook_url text;

update ops.alert_rules set runbook = 'Authentication' where key in ('session_refresh_failures', 'authentication_down');
update ops.alert_rules set runbook_url = 'docs/runbook.md#' || case runbook
  when 'PMS Down' then 'pms-down'
  when 'WAHA Down' then 'waha-down'
  when 'Webhook Failures' then 'webhook-failures'
  when 'Database Issues' then 'database-issues'
  when 'Authentication' then 'authentication'
  else 'alert-thresholds' end;
update ops.alert_rules set runbook_url = 'docs/runbook.md#queues-and-retries', runbook = 'Queues and retries'
where key = 'retry_queue_depth_high';
alter table ops.alert_rules alter column runbook_url set not null;
alter table ops.alert_rules alter column runbook_url set default 'docs/runbook.md#alert-thresholds';

-- A figure as a person reads it: ratios as percentages, minutes and seconds with their unit.
create function ops.format_figure(p_value numeric, p_unit text) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_value is null then 'unknown'
    when p_unit = 'ratio' then trim(to_char(p_value * 100, 'FM999990.0')) || '%'
    when p_unit in ('minutes', 'seconds') then trim(to_char(p_value, 'FM999999990.0')) || ' ' || p_unit
    else trim(to_char(p_value, 'FM999999999990.####'))
  end
$$;

-- "<rule summary>: <figure> <value> <comparison> <threshold> (window) — runbook: <link>"
create function ops.alert_text(p_rule_key text, p_value numeric, p_threshold numeric) returns text
language sql stable
set search_path = ''
as $$
  select r.summary || ': ' || replace(regexp_replace(r.metric, '_(minutes|seconds)$', ''), '_', ' ') || ' '
         || ops.format_figure(p_value, c.unit)
         || ' ' || r.comparison || ' ' || ops.format_figure(p_threshold, c.unit)
         || case when c.unit in ('ratio', 'count') then ' over ' || (extract(epoch from r.lookback) / 60)::integer || ' min' else '' end
         || ' — runbook: ' || r.runbook_url
  from ops.alert_rules r
  join ops.metric_catalog c on c.name = r.metric
  where r.key = p_rule_key
$$;

-- evaluate_alerts copies the rule's fixed summary into the alert; this trigger writes the text
-- with the value instead, at opening and at each refresh (a trigger rather than another copy of
-- evaluate_alerts, so later changes to the evaluation keep it).
create function ops.alerts_write_text() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.summary := coalesce(ops.alert_text(new.rule_key, new.value, new.threshold), new.summary);
  return new;
end
$$;

create trigger alerts_write_text before insert or update of value, threshold on ops.alerts
for each row execute function ops.alerts_write_text();

-- Notifications carry the runbook link next to the section name.
create function ops.notifications_add_runbook_url() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.body ? 'alert' then
    new.body := jsonb_set(new.body, '{alert,runbook_url}', coalesce(to_jsonb(
      (select r.runbook_url from ops.alerts a join ops.alert_rules r on r.key = a.rule_key where a.id = new.alert_id)),
      'null'::jsonb));
  end if;
  return new;
end
$$;

create trigger notifications_add_runbook_url before insert on ops.notifications
for each row execute function ops.notifications_add_runbook_url();

revoke all on function ops.format_figure(numeric, text) from public, anon, authenticated;
revoke all on function ops.alert_text(text, numeric, numeric) from public, anon, authenticated;
revoke all on function ops.alerts_write_text() from public, anon, authenticated;
revoke all on function ops.notifications_add_runbook_url() from public, anon, authenticated;
grant execute on function ops.format_figure(numeric, text) to service_role;
grant execute on function ops.alert_text(text, numeric, numeric) to service_role;
