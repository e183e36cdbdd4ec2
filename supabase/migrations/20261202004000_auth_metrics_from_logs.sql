-- The runbook's authentication figures from what Auth really records. Wrong passwords and
-- refused refresh tokens are only in Auth's request log; the worker reads it on a schedule
-- (Management API logs endpoint on hosted Supabase, devstack's simulator of it locally:
-- worker/ops/auth_logs.py) and records one sample per window, 'auth.failed_logins' and
-- 'auth.refresh_failures'. Failed logins now come from those samples whenever the log is read
-- (they count unknown addresses too); the password-verification hook remains the source where
-- it is not. Token refreshes (the token expiration rate), logins, sign-ups and revocations stay
-- with the audit log.
create or replace function ops.auth_metrics(
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
         case
           when exists (select 1 from ops.samples s where s.name = 'auth.failed_logins') then
             (select coalesce(sum(s.value), 0)::bigint from ops.samples s
              where s.name = 'auth.failed_logins' and s.taken_at >= p_since and s.taken_at < p_until)
           else
             (select count(*) filter (where not p.valid) from ops.password_attempts p
              where p.at >= p_since and p.at < p_until
              having exists (select 1 from ops.password_attempts))
         end,
         (select sum(s.value) from ops.samples s
          where s.name = 'auth.refresh_failures' and s.taken_at >= p_since and s.taken_at < p_until)
  from auth.audit_log_entries a
  where a.created_at >= p_since and a.created_at < p_until
$$;

revoke all on function ops.auth_metrics(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function ops.auth_metrics(timestamptz, timestamptz) to service_role;
