-- Auth's failed logins and refresh failures, read from the project's logs (worker/ops/auth_logs.py)
-- into ops.samples, where ops.auth_metrics() and the alert rules read them.

-- name: lock
-- One replica reads a window; the others skip it.
select pg_try_advisory_xact_lock(hashtext('ops.auth_logs')) as locked, clock_timestamp() as now

-- name: last_until
-- Where the previous read stopped (each read records its window in the samples' detail).
select max((s.detail ->> 'until')::timestamptz) as until
from ops.samples s
where s.name = 'auth.failed_logins' and s.detail ? 'until'

-- name: record
select ops.record_sample('auth.failed_logins', %(failed_logins)s, %(detail)s::jsonb),
       ops.record_sample('auth.refresh_failures', %(refresh_failures)s, %(detail)s::jsonb)
