-- Service functions that other changes of the same release created in `public` while
-- 20261202009000_internal_schema.sql was being written move to `internal` too, and every body
-- that calls them is pointed there (the same rewrite 009000 does, for these names).

alter function public.ingest_mews_events_v1(uuid, jsonb, text) set schema internal;
alter function public.record_webhook_refusals_v1(jsonb) set schema internal;
alter function public.register_worker_v1(text, uuid) set schema internal;
alter function public.deregister_worker_v1(text, uuid) set schema internal;
alter function public.reclaim_messages_v2(text, interval) set schema internal;
alter function public.reclaim_dead_workers_v1(text, interval) set schema internal;
alter function public.leased_messages_v1(bigint[], text) set schema internal;
alter function public.claim_messages_v5(text, integer, interval, interval, interval) set schema internal;
alter function public.take_back_orphaned_claims_v1(text, bigint[]) set schema internal;

do $$
declare
  v_moved constant text := 'ingest_mews_events_v1|record_webhook_refusals_v1|register_worker_v1|deregister_worker_v1'
    || '|reclaim_messages_v2|reclaim_dead_workers_v1|leased_messages_v1|claim_messages_v5|take_back_orphaned_claims_v1';
  v_fn record;
begin
  for v_fn in
    select p.oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('internal', 'public', 'private', 'ops', 'metrics')
      and p.prosrc ~ ('public\.(' || v_moved || ')\(')
  loop
    execute regexp_replace(pg_get_functiondef(v_fn.oid), 'public\.(' || v_moved || ')\(', 'internal.\1(', 'g');
  end loop;
end
$$;
