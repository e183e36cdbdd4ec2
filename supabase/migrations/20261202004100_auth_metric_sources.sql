-- The alert metrics say where their figures come from (docs/runbook.md, "Where the Auth figures
-- come from"): Auth's request log read by the worker, or the password hook where it is not read.
update ops.metric_catalog
set description = 'refused refresh-token grants in the window (any 4xx on /token?grant_type=refresh_token), '
                  'from Auth''s request log (auth_logs) read by the worker into samples auth.refresh_failures'
where name = 'auth_refresh_failures';

update ops.metric_catalog
set description = 'failed password sign-ins in the window (invalid_credentials, unknown addresses too), from '
                  'Auth''s request log read by the worker (samples auth.failed_logins); without it, the '
                  'password verification hook (ops.password_attempts)'
where name = 'failed_logins';
