-- Writes row-level security refused, read from the Postgres log (worker/ops/rls_logs.py) into
-- ops.rls_refusals, per table and minute, where ops.rls_refused_writes() and the alert rules read them.

-- name: lock
-- One replica reads the log; the others skip it.
select pg_try_advisory_xact_lock(hashtext('ops.rls_logs')) as locked, clock_timestamp() as now

-- name: cursor
-- Where the previous read of this source stopped.
select c.position from ops.log_cursors c where c.source = %(source)s

-- name: record
select ops.record_rls_refusals(%(source)s, %(counts)s::jsonb, %(position)s::jsonb) as refused
