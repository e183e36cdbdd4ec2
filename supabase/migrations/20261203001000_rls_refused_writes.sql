-- Writes that row-level security refused, counted from the Postgres log.
--
-- A plain insert or update through the Data API whose new row fails a policy's check is refused
-- by Postgres (SQLSTATE 42501, `new row violates row-level security policy for table "..."`),
-- PostgREST answers 403, and nothing reaches the database. The log line is all there is: on
-- hosted Supabase the worker reads `postgres_logs` through the Management API's logs endpoint
-- (as it reads Auth's), locally the server's jsonlog file from a saved offset
-- (worker/ops/rls_logs.py). The line names the table, not the tenant or the user (the role is
-- `authenticated`), so the counts are per table, and per minute: a flood of refused writes is a
-- handful of rows here, never a row per request.

create table ops.rls_refusals (
  minute timestamptz not null check (minute = date_trunc('minute', minute)),
  table_name text not null check (table_name <> ''),
  source text not null check (source in ('postgres_logs', 'local_postgres_log')),
  refused bigint not null check (refused > 0),
  primary key (minute, table_name, source)
);

-- Where each log source was last read up to: the Management API's window end, or the local
-- file's path, identity and byte offset.
create table ops.log_cursors (
  source text primary key check (source in ('postgres_logs', 'local_postgres_log')),
  position jsonb not null,
  updated_at timestamptz not null default now()
);

alter table ops.rls_refusals enable row level security;
alter table ops.log_cursors enable row level security;
revoke all on ops.rls_refusals, ops.log_cursors from public, anon, authenticated;
grant all on ops.rls_refusals, ops.log_cursors to service_role;

-- One read of a source: its counts, [{"minute": ..., "table": "public.x", "refused": n}], added
-- to the minutes they fall in, and where the read stopped, in one transaction (a failed read
-- records neither, and the next one reads the same lines again). Returns the writes counted.
create function ops.record_rls_refusals(p_source text, p_counts jsonb, p_position jsonb)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_total bigint;
begin
  if jsonb_typeof(p_counts) <> 'array' then
    raise exception 'counts must be a JSON array' using errcode = '22023';
  end if;
  insert into ops.rls_refusals as r (minute, table_name, source, refused)
  select date_trunc('minute', (c ->> 'minute')::timestamptz), c ->> 'table', p_source, sum((c ->> 'refused')::bigint)
  from jsonb_array_elements(p_counts) c
  group by 1, 2
  having sum((c ->> 'refused')::bigint) > 0
  on conflict (minute, table_name, source) do update set refused = r.refused + excluded.refused;
  select coalesce(sum((c ->> 'refused')::bigint), 0) into v_total from jsonb_array_elements(p_counts) c;
  insert into ops.log_cursors (source, position) values (p_source, p_position)
  on conflict (source) do update set position = excluded.position, updated_at = now();
  return v_total;
end
$$;

-- The refused writes per table in a window; no rows when none were refused (or no log was read:
-- see ops.log_cursors).
create function ops.rls_refused_writes(
  p_since timestamptz default now() - interval '1 hour',
  p_until timestamptz default now()
) returns table (table_name text, refused bigint, first_minute timestamptz, last_minute timestamptz)
language sql stable
set search_path = ''
as $$
  select r.table_name, sum(r.refused)::bigint, min(r.minute), max(r.minute)
  from ops.rls_refusals r
  where r.minute >= date_trunc('minute', p_since) and r.minute < p_until
  group by r.table_name
  order by 2 desc, 1
$$;

revoke all on function ops.record_rls_refusals(text, jsonb, jsonb) from public, anon, authenticated;
revoke all on function ops.rls_refused_writes(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function ops.record_rls_refusals(text, jsonb, jsonb) to service_role;
grant execute on function ops.rls_refused_writes(timestamptz, timestamptz) to service_role;

insert into ops.metric_catalog (name, scope, unit, description) values
  ('rls_refused_writes', 'platform', 'count',
   'plain writes row-level security refused in the window (new row violates row-level security policy, '
   'SQLSTATE 42501), from the Postgres log: postgres_logs through the Management API, or the local '
   'server''s jsonlog (ops.rls_refused_writes)');

insert into ops.alert_rules (key, severity, metric, comparison, threshold, lookback, min_samples,
                             notify_tenant, summary, runbook, runbook_url) values
  ('rls_refused_writes', 'warning', 'rls_refused_writes', '>', 0, '15 minutes', 0, false,
   'Writes refused by row-level security', 'Database Issues', 'docs/runbook.md#database-issues');

-- The rules' figures, with the refused writes (otherwise as in 20261202006100).
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

  -- Writes RLS refused, once a Postgres log has been read (never read: unknown, not zero).
  if exists (select 1 from ops.log_cursors c where c.source in ('postgres_logs', 'local_postgres_log')) then
    return query values ('rls_refused_writes'::text, null::uuid,
      (select coalesce(sum(r.refused), 0)::numeric from ops.rls_refusals r
       where r.minute >= date_trunc('minute', v_since)), 1::bigint);
  end if;

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
