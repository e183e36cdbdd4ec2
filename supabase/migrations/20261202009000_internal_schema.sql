-- The worker's and the edge functions' SQL functions leave `public` for `internal`, a schema the
-- Data API does not expose (supabase/config.toml [api] schemas: public, graphql_public,
-- metrics). `public` keeps the tenant contract: the tables under RLS and the dashboard's RPCs,
-- each granted to `authenticated` (supabase/tests/01-schema.sql fails on anything else there,
-- trigger functions aside). Privileges survive the move: these stay executable by service_role
-- only, which now also needs USAGE on the schema.
--
-- The list is explicit on purpose: every function in public that only service_role may
-- execute, as of this migration. A service function added later belongs in `internal` from the
-- start (create function internal.…).

create schema if not exists internal;
revoke all on schema internal from public;
grant usage on schema internal to service_role;

-- Inbound events (the webhook functions ingest, the worker works them off)
alter function public.ingest_inbound_events_v1(uuid, public.event_source, text, jsonb, text) set schema internal;
alter function public.reclaim_inbound_events_v1() set schema internal;
alter function public.claim_inbound_events_v1(text, integer, interval) set schema internal;
alter function public.complete_inbound_events_v1(bigint[], text, public.inbound_event_status) set schema internal;
alter function public.fail_inbound_event_v1(bigint, text, text, boolean, interval, interval) set schema internal;
alter function public.release_inbound_events_v1(bigint[], text) set schema internal;
-- Webhook authentication and vendor connections (edge functions, worker)
alter function public.webhook_auth_context_v1(text, text, text) set schema internal;
alter function public.rotate_waha_webhook_secret_v1(uuid, interval) set schema internal;
alter function public.pms_connection_v1(uuid) set schema internal;
alter function public.waha_connection_v1(uuid) set schema internal;
-- Reservations from PMS data
alter function public.upsert_reservation_v1(uuid, jsonb, text, uuid) set schema internal;
alter function public.upsert_reservation_v2(uuid, jsonb, text, uuid, boolean) set schema internal;
alter function public.upsert_reservations_v1(uuid, jsonb, text, uuid) set schema internal;
-- The message queue: claims, leases, settling, sends, acks, pauses
alter function public.reclaim_messages_v1() set schema internal;
alter function public.claim_messages_v1(text, integer, interval, integer) set schema internal;
alter function public.claim_messages_v2(text, integer, interval) set schema internal;
alter function public.claim_messages_v3(text, integer, interval) set schema internal;
alter function public.claim_messages_v4(text, integer, interval, interval) set schema internal;
alter function public.prepare_messages_v1(bigint[], text) set schema internal;
alter function public.mark_message_sent_v1(bigint, text, text) set schema internal;
alter function public.mark_messages_sent_v1(text, bigint[], text[], double precision[]) set schema internal;
alter function public.fail_message_v1(bigint, text, text, boolean, interval, interval) set schema internal;
alter function public.release_messages_v1(bigint[], text, text, interval) set schema internal;
alter function public.next_message_due_v1() set schema internal;
alter function public.pause_tenant_sends_v1(uuid, text) set schema internal;
alter function public.record_session_status_v1(uuid, text, text, timestamptz) set schema internal;
alter function public.record_message_ack_v1(uuid, text, integer) set schema internal;
alter function public.opt_out_guest_v1(uuid, text, text) set schema internal;
-- PMS sync jobs
alter function public.enqueue_sync_v1(uuid, public.sync_kind, public.sync_trigger, text, text) set schema internal;
alter function public.reclaim_sync_jobs_v1() set schema internal;
alter function public.claim_sync_job_v1(text, interval) set schema internal;
alter function public.heartbeat_sync_job_v1(uuid, text, interval) set schema internal;
alter function public.finish_sync_job_v1(uuid, text, boolean, jsonb, text) set schema internal;
alter function public.finish_pms_sync_v1(uuid, text, boolean, jsonb, text, text, timestamptz) set schema internal;
alter function public.absorb_reservation_jobs_v1(uuid, text, integer) set schema internal;
alter function public.release_sync_job_v1(uuid, text) set schema internal;
alter function public.schedule_pms_syncs_v1() set schema internal;
alter function public.pms_sync_context_v1(uuid) set schema internal;
-- Supabase Auth's Password Verification Attempt hook (configure it as
-- pg-functions://postgres/internal/hook_password_verification_attempt)
alter function public.hook_password_verification_attempt(jsonb) set schema internal;

do $$
begin
  -- Supabase Auth runs hooks as supabase_auth_admin (a role of hosted projects only).
  if exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    grant usage on schema internal to supabase_auth_admin;
  end if;
end
$$;

-- Function bodies name each other schema-qualified (search_path is empty), e.g.
-- claim_messages_v4 performs public.reclaim_messages_v1(). Every function whose body calls a
-- moved one is recreated from its own current definition with the calls pointing at internal,
-- so whatever version of a body is in place (a later fix included) is kept as it is.
do $$
declare
  v_moved text;
  v_fn record;
  v_def text;
begin
  select string_agg(p.proname, '|') into v_moved
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'internal';
  for v_fn in
    select p.oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('internal', 'public', 'private', 'ops', 'metrics')
      and p.prosrc ~ ('public\.(' || v_moved || ')\(')
  loop
    v_def := regexp_replace(pg_get_functiondef(v_fn.oid), 'public\.(' || v_moved || ')\(', 'internal.\1(', 'g');
    execute v_def;
  end loop;
end
$$;

-- pg_cron's schedule of incremental syncs (cron.schedule replaces the job of the same name).
select cron.schedule('pms-incremental-syncs', '* * * * *', 'select internal.schedule_pms_syncs_v1()');
