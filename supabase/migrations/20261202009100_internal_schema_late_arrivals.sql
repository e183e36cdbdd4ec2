-- Service functions that other changes of the same release created in `public` while
-- 20261202009000_internal_schema.sql was being written move to `internal` too, and every body
-- that calls them is pointed there (the same rewrite 009000 does, for these names).

alter function public.ingest_mews_events_v1(uuid, jsonb, text) set schema internal;
alter function public.record_webhook_refusals_v1(jsonb) set schema internal;

do $$
declare
  v_moved constant text := 'ingest_mews_events_v1|record_webhook_refusals_v1';
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
