-- Operations, part 2: every runbook metric as SQL.
--
-- Tenant figures live in the `metrics` schema, for the dashboard (add "metrics" to the API's
-- exposed schemas). Following Supabase's guidance, nothing in an exposed schema bypasses RLS:
-- views are `security_invoker` and functions are security invoker, so a member reading them
-- gets exactly the rows the tables' own policies give them, and the same objects serve the
-- on-call engineer (service role: every tenant). A view cannot take parameters, so figures
-- over a time window are set-returning functions (PostgREST: rpc('tenant_metrics', {p_since,
-- p_until})); current state (sessions, PMS health, queues) is plain views.
--
-- Platform figures (Supabase Auth, connections, slow queries, denied calls) cover every tenant
-- at once and read server statistics, so they are service-role functions in `ops`, which the
-- API does not expose.

-- ============================================================================================
-- Schema
-- ============================================================================================
create schema if not exists metrics;
revoke all on schema metrics from public;
grant usage on schema metrics to authenticated, service_role;

-- Members read their tenants' PMS outages through metrics.pms_health.
grant select on ops.pms_outages to authenticated;
create policy "PMS outages are visible to members of their tenant"
on ops.pms_outages for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

-- ============================================================================================
-- Current state (views)
-- ============================================================================================
create view metrics.waha_sessions with (security_invoker = true) as
select w.tenant_id, t.name as tenant_name, w.session_name, w.session_status, w.is_connected,
       w.status_changed_at,
       floor(extract(epoch from now() - w.status_changed_at))::bigint as seconds_in_status,
       w.sends_paused_reason, w.sends_paused_at
from public.waha_configurations w
join public.tenants t on t.id = w.tenant_id;

create view metrics.pms_health with (security_invoker = true) as
select c.tenant_id, t.name as tenant_name, c.id as pms_configuration_id, c.provider::text as provider,
       c.is_active, c.health::text as health, c.consecutive_failures, c.last_error, c.last_error_at,
       c.last_success_at, c.sync_cursor, o.failing_since,
       j.status::text as last_sync_status, j.kind::text as last_sync_kind,
       j.finished_at as last_sync_finished_at, j.error as last_sync_error
from public.pms_configurations c
join public.tenants t on t.id = c.tenant_id
left join ops.pms_outages o on o.pms_configuration_id = c.id
left join lateral (
  select s.status, s.kind, s.finished_at, s.error
  from public.sync_jobs s
  where s.tenant_id = c.tenant_id and s.pms_configuration_id = c.id
  order by s.requested_at desc
  limit 1
) j on true;

-- Each branch reads one partial index (claimable, leased or dead rows), never the history.
create view metrics.queue_depths with (security_invoker = true) as
with inbound as (
  select x.tenant_id, sum(x.due) as due, sum(x.retrying) as retrying,
         sum(x.processing) as processing, sum(x.dead) as dead
  from (
    select e.tenant_id, count(*) filter (where e.next_attempt_at <= now()) as due,
           count(*) filter (where e.attempts > 0) as retrying, 0 as processing, 0 as dead
    from public.inbound_events e where e.status = 'pending' group by e.tenant_id
    union all
    select e.tenant_id, 0, 0, count(*), 0
    from public.inbound_events e where e.status = 'processing' group by e.tenant_id
    union all
    select e.tenant_id, 0, 0, 0, count(*)
    from public.inbound_events e where e.status = 'dead' group by e.tenant_id
  ) x
  group by x.tenant_id
),
messages as (
  select x.tenant_id, sum(x.due) as due, sum(x.scheduled) as scheduled, sum(x.retrying) as retrying,
         sum(x.sending) as sending, sum(x.dead) as dead
  from (
    select m.tenant_id, count(*) filter (where m.next_attempt_at <= now()) as due,
           count(*) filter (where m.next_attempt_at > now()) as scheduled,
           count(*) filter (where m.status = 'failed') as retrying, 0 as sending, 0 as dead
    from public.message_logs m where m.status in ('scheduled', 'queued', 'failed') group by m.tenant_id
    union all
    select m.tenant_id, 0, 0, 0, count(*), 0
    from public.message_logs m where m.status = 'sending' group by m.tenant_id
    union all
    select m.tenant_id, 0, 0, 0, 0, count(*)
    from public.message_logs m where m.status = 'dead' group by m.tenant_id
  ) x
  group by x.tenant_id
),
syncs as (
  select j.tenant_id,
         count(*) filter (where j.status = 'pending') as pending,
         count(*) filter (where j.status = 'pending' and j.attempts > 0) as retrying,
         count(*) filter (where j.status = 'running') as running
  from public.sync_jobs j
  where j.status in ('pending', 'running')
  group by j.tenant_id
)
select t.id as tenant_id, t.name as tenant_name,
       coalesce(i.due, 0)::bigint as inbound_due,
       coalesce(i.retrying, 0)::bigint as inbound_retrying,
       coalesce(i.processing, 0)::bigint as inbound_processing,
       coalesce(i.dead, 0)::bigint as inbound_dead,
       coalesce(m.due, 0)::bigint as messages_due,
       coalesce(m.scheduled, 0)::bigint as messages_scheduled,
       coalesce(m.retrying, 0)::bigint as messages_retrying,
       coalesce(m.sending, 0)::bigint as messages_sending,
       coalesce(m.dead, 0)::bigint as messages_dead,
       coalesce(s.pending, 0)::bigint as syncs_pending,
       coalesce(s.running, 0)::bigint as syncs_running,
       (coalesce(i.retrying, 0) + coalesce(m.retrying, 0) + coalesce(s.retrying, 0))::bigint as retry_depth,
       (coalesce(i.dead, 0) + coalesce(m.dead, 0))::bigint as dead_letters
from public.tenants t
left join inbound i on i.tenant_id = t.id
left join messages m on m.tenant_id = t.id
left join syncs s on s.tenant_id = t.id;

-- ============================================================================================
-- Figures over a time window (functions: a view cannot take the window)
-- ============================================================================================

-- One row per tenant the caller can see (optionally one tenant), for [p_since, p_until):
--  - webhooks: events received in the window and where they stand now (succeeded/ignored,
--    failed = dead or waiting for a retry, in flight = not finished yet);
--  - syncs: jobs finished in the window, their duration, and reservations they failed to sync;
--  - messages: sent in the window and how many of those were delivered or read since, and
--    messages that failed (retry pending) or died in the window; failure rate =
--    failed / (sent + failed), each message counted once.
create function metrics.tenant_metrics(
  p_since timestamptz default now() - interval '1 hour',
  p_until timestamptz default now(),
  p_tenant_id uuid default null
) returns table (
  tenant_id uuid,
  tenant_name text,
  since timestamptz,
  until timestamptz,
  webhooks_received bigint,
  webhooks_succeeded bigint,
  webhooks_failed bigint,
  webhooks_in_flight bigint,
  webhook_success_rate numeric,
  webhook_failure_rate numeric,
  syncs_finished bigint,
  syncs_failed bigint,
  sync_seconds_avg numeric,
  sync_seconds_p95 numeric,
  sync_seconds_max numeric,
  reservations_failed_to_sync bigint,
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
begin
  if p_since is null or p_until is null or p_since >= p_until then
    raise exception 'the window needs p_since < p_until' using errcode = 'invalid_parameter_value';
  end if;
  return query
  with webhooks as (
    select e.tenant_id,
           count(*) as received,
           count(*) filter (where e.status in ('succeeded', 'ignored')) as succeeded,
           count(*) filter (where e.status = 'dead' or (e.status = 'pending' and e.attempts > 0)) as failed,
           count(*) filter (where e.status = 'processing' or (e.status = 'pending' and e.attempts = 0)) as in_flight
    from public.inbound_events e
    where e.received_at >= p_since and e.received_at < p_until
      and (p_tenant_id is null or e.tenant_id = p_tenant_id)
    group by e.tenant_id
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
      and (p_tenant_id is null or j.tenant_id = p_tenant_id)
    group by j.tenant_id
  ),
  sent as (
    select m.tenant_id,
           count(*) as sent,
           count(*) filter (where m.status in ('delivered', 'read')) as delivered,
           count(*) filter (where m.status = 'read') as read
    from public.message_logs m
    where m.sent_at >= p_since and m.sent_at < p_until
      and (p_tenant_id is null or m.tenant_id = p_tenant_id)
    group by m.tenant_id
  ),
  failing as (
    -- A message sent in the window that WhatsApp then rejected (ack -1) is already counted as
    -- sent: the failure rate's denominator counts it once.
    select m.tenant_id,
           count(*) filter (where m.status = 'failed') as failed,
           count(*) filter (where m.status = 'dead') as dead,
           count(*) filter (where m.sent_at >= p_since and m.sent_at < p_until) as also_sent
    from public.message_logs m
    where m.status in ('failed', 'dead') and m.updated_at >= p_since and m.updated_at < p_until
      and (p_tenant_id is null or m.tenant_id = p_tenant_id)
    group by m.tenant_id
  )
  select t.id, t.name, p_since, p_until,
         coalesce(w.received, 0), coalesce(w.succeeded, 0), coalesce(w.failed, 0), coalesce(w.in_flight, 0),
         round(w.succeeded::numeric / nullif(w.succeeded + w.failed, 0), 4),
         round(w.failed::numeric / nullif(w.succeeded + w.failed, 0), 4),
         coalesce(s.finished, 0), coalesce(s.failed, 0),
         round(s.avg_s, 3), round(s.p95_s::numeric, 3), round(s.max_s, 3),
         coalesce(s.reservations_failed, 0)::bigint,
         coalesce(x.sent, 0), coalesce(x.delivered, 0), coalesce(x.read, 0),
         coalesce(f.failed, 0), coalesce(f.dead, 0),
         round(x.delivered::numeric / nullif(x.sent, 0), 4),
         round((coalesce(f.failed, 0) + coalesce(f.dead, 0))::numeric
               / nullif(coalesce(x.sent, 0) + coalesce(f.failed, 0) + coalesce(f.dead, 0) - coalesce(f.also_sent, 0), 0), 4)
  from public.tenants t
  left join webhooks w on w.tenant_id = t.id
  left join syncs s on s.tenant_id = t.id
  left join sent x on x.tenant_id = t.id
  left join failing f on f.tenant_id = t.id
  where p_tenant_id is null or t.id = p_tenant_id
  order by t.name, t.id;
end
$$;

revoke all on function metrics.tenant_metrics(timestamptz, timestamptz, uuid) from public, anon;
grant execute on function metrics.tenant_metrics(timestamptz, timestamptz, uuid) to authenticated, service_role;

revoke all on all tables in schema metrics from public, anon, authenticated;
grant select on metrics.waha_sessions, metrics.pms_health, metrics.queue_depths to authenticated, service_role;

-- ============================================================================================
-- Platform figures (service role; ops is not exposed)
-- ============================================================================================

-- Supabase Auth, from its audit log (auth.audit_log_entries, platform-wide: no tenant). Each
-- token refresh follows an access token reaching its expiry, so refreshes per hour are the
-- token expiration rate. Failed logins come from the password-verification hook
-- (ops.password_attempts; null while the hook has never reported). Refresh failures are never
-- written to the database by Supabase Auth: null unless something feeds samples named
-- 'auth.refresh_failures' (ops.record_sample), e.g. from a log drain.
create function ops.auth_metrics(
  p_since timestamptz default now() - interval '1 hour',
  p_until timestamptz default now()
) returns table (
  logins bigint,
  signups bigint,
  logouts bigint,
  token_refreshes bigint,
  token_revocations bigint,
  token_refreshes_per_hour numeric,
  failed_logins bigint,
  refresh_failures numeric
)
language sql stable security definer
set search_path = ''
as $$
  select count(*) filter (where a.payload ->> 'action' in ('login', 'mfa_code_login')),
         count(*) filter (where a.payload ->> 'action' = 'user_signedup'),
         count(*) filter (where a.payload ->> 'action' = 'logout'),
         count(*) filter (where a.payload ->> 'action' = 'token_refreshed'),
         count(*) filter (where a.payload ->> 'action' = 'token_revoked'),
         round(count(*) filter (where a.payload ->> 'action' = 'token_refreshed')
               / greatest(extract(epoch from p_until - p_since) / 3600, 1e-9)::numeric, 2),
         (select count(*) filter (where not p.valid) from ops.password_attempts p
          where p.at >= p_since and p.at < p_until
          having exists (select 1 from ops.password_attempts)),
         (select sum(s.value) from ops.samples s
          where s.name = 'auth.refresh_failures' and s.taken_at >= p_since and s.taken_at < p_until)
  from auth.audit_log_entries a
  where a.created_at >= p_since and a.created_at < p_until
$$;

-- pg_stat_statements is preloaded on Supabase; elsewhere it may be missing or not loaded.
create function ops.statements_available() returns boolean
language sql stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_stat_statements')
    and current_setting('shared_preload_libraries') ~ '(^|[ ,])pg_stat_statements($|[ ,])'
$$;

-- Connections and query times from the server's own statistics.
create function ops.database_metrics() returns table (
  connections_used integer,
  connections_max integer,
  connection_usage numeric,
  active integer,
  idle integer,
  idle_in_transaction integer,
  waiting_on_locks integer,
  longest_query_seconds numeric,
  longest_transaction_seconds numeric,
  sessions_fatal bigint,
  statements_available boolean
)
language sql stable security definer
set search_path = ''
as $$
  with limits as (
    select current_setting('max_connections')::integer
           - current_setting('superuser_reserved_connections')::integer as usable
  ),
  clients as (
    select a.*, a.pid = pg_catalog.pg_backend_pid() as is_self
    from pg_catalog.pg_stat_activity a
    where a.backend_type = 'client backend'
  )
  select (select count(*)::integer from clients),
         (select l.usable from limits l),
         round((select count(*) from clients)::numeric / (select l.usable from limits l), 4),
         (select count(*)::integer from clients c where c.state = 'active'),
         (select count(*)::integer from clients c where c.state = 'idle'),
         (select count(*)::integer from clients c where c.state like 'idle in transaction%'),
         (select count(*)::integer from clients c where c.wait_event_type = 'Lock'),
         (select round(coalesce(max(extract(epoch from now() - c.query_start)), 0)::numeric, 3)
          from clients c where c.state = 'active' and not c.is_self),
         (select round(coalesce(max(extract(epoch from now() - c.xact_start)), 0)::numeric, 3)
          from clients c where c.xact_start is not null and not c.is_self),
         (select d.sessions_fatal from pg_catalog.pg_stat_database d where d.datname = current_database()),
         ops.statements_available()
$$;

-- Queries running longer than p_min_seconds now, and (when pg_stat_statements is there) the
-- statements whose mean time is over it since the statistics were last reset.
create function ops.slow_queries(p_min_seconds numeric default 1, p_limit integer default 20)
returns table (
  source text,
  pid integer,
  seconds numeric,
  calls bigint,
  application_name text,
  state text,
  query text
)
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_schema text;
begin
  return query
  select 'running'::text, a.pid,
         round(extract(epoch from now() - a.query_start)::numeric, 3), null::bigint,
         a.application_name::text, a.state::text, left(a.query, 500)
  from pg_catalog.pg_stat_activity a
  where a.backend_type = 'client backend' and a.state = 'active'
    and a.pid <> pg_catalog.pg_backend_pid()
    and now() - a.query_start >= make_interval(secs => p_min_seconds::double precision)
  order by a.query_start
  limit p_limit;

  if ops.statements_available() then
    select n.nspname::text into v_schema
    from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pg_stat_statements';
    return query execute format(
      $q$select 'statements'::text, null::integer, round((s.mean_exec_time / 1000)::numeric, 3),
               s.calls, null::text, null::text, left(s.query, 500)
         from %I.pg_stat_statements s
         where s.dbid = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
           and s.mean_exec_time >= $1 * 1000
         order by s.mean_exec_time desc
         limit $2$q$, v_schema)
    using p_min_seconds, p_limit;
  end if;
end
$$;

-- Admin calls refused by private.assert_tenant_role in the window (sampled every minute).
create function ops.denied_calls(p_since timestamptz default now() - interval '1 hour')
returns numeric
language sql stable
set search_path = ''
as $$
  select ops.counter_increase('denied_calls', p_since)
$$;

revoke all on function ops.auth_metrics(timestamptz, timestamptz) from public, anon, authenticated;
revoke all on function ops.database_metrics() from public, anon, authenticated;
revoke all on function ops.statements_available() from public, anon, authenticated;
revoke all on function ops.slow_queries(numeric, integer) from public, anon, authenticated;
revoke all on function ops.denied_calls(timestamptz) from public, anon, authenticated;
grant execute on function ops.auth_metrics(timestamptz, timestamptz) to service_role;
grant execute on function ops.database_metrics() to service_role;
grant execute on function ops.statements_available() to service_role;
grant execute on function ops.slow_queries(numeric, integer) to service_role;
grant execute on function ops.denied_calls(timestamptz) to service_role;
