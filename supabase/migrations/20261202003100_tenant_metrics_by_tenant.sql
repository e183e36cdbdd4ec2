-- metrics.tenant_metrics reads only the caller's tenants' rows: the indexes it reads through.
--
-- It filtered the history tables by time alone and left the tenant to row level security, whose
-- `tenant_id in (select private.tenant_ids_for())` is a filter applied row by row: a member's
-- 30-day figures read the whole platform's 30 days, and grew with the number of hotels until
-- the authenticated role's 8 s statement timeout (hosted Supabase) would cancel them. The
-- tenants are now resolved first (the caller's memberships, or every tenant for the back end)
-- and each window is read through an index led by tenant_id. RLS still applies on top.

create index message_logs_tenant_sent_idx on public.message_logs (tenant_id, sent_at)
where sent_at is not null;
create index message_logs_tenant_failed_updated_idx on public.message_logs (tenant_id, updated_at)
where status in ('failed', 'dead');
create index sync_jobs_tenant_finished_idx on public.sync_jobs (tenant_id, finished_at)
where finished_at is not null;
-- inbound_events already has inbound_events_tenant_received_idx (tenant_id, received_at desc).

-- metrics.tenant_metrics itself is rewritten to resolve the tenants first and read each window
-- through these indexes in 20261202006100_figures_that_say_what_they_claim.sql, together with
-- its honest rates (one definition instead of two in one release).
