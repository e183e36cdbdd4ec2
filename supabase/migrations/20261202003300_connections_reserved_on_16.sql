-- ops.database_metrics(): the usable connections also leave out PostgreSQL 16+'s
-- reserved_connections. Hosted projects run PostgreSQL 17, the tests 15; on 15 nothing changes.
create or replace function ops.database_metrics() returns table (
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
           - current_setting('superuser_reserved_connections')::integer
           -- PostgreSQL 16+ also keeps reserved_connections for pg_use_reserved_connections
           -- roles; the setting does not exist on 15 (missing_ok: null, counted as 0).
           - coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::integer as usable
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
