-- The security posture of the ops and metrics schemas (01-schema covers public and private), the
-- pg_cron schedule, and plpgsql_check over their functions (`supabase db lint` is run on
-- public and private only).
begin;
select plan(11);

select is(
  (select coalesce(array_agg(c.relname::text order by c.relname), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'ops' and c.relkind in ('r', 'p') and not c.relrowsecurity),
  '{}'::text[],
  'every ops table has row level security enabled'
);

select is(
  (select coalesce(array_agg(c.relname::text order by c.relname), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'metrics' and c.relkind = 'v'
     and not coalesce('security_invoker=true' = any (c.reloptions), false)),
  '{}'::text[],
  'every metrics view runs with the caller''s rights, so RLS applies to it'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'metrics' and p.prosecdef),
  '{}'::text[],
  'nothing in the exposed metrics schema is security definer'
);

select is(
  (select array[has_schema_privilege('anon', 'ops', 'usage'), has_schema_privilege('anon', 'metrics', 'usage')]),
  array[false, false],
  'anon cannot use the ops or metrics schema'
);

select is(
  (select coalesce(array_agg(n.nspname || '.' || c.relname || ':' || priv
                            order by n.nspname || '.' || c.relname || ':' || priv), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   cross join unnest(array['select', 'insert', 'update', 'delete']) priv
   where n.nspname in ('ops', 'metrics') and c.relkind in ('r', 'p', 'v', 'S')
     and (c.relkind = 'S' or has_table_privilege('authenticated', c.oid, priv))
     and (c.relkind <> 'S' or has_sequence_privilege('authenticated', c.oid, 'usage'))),
  array['metrics.alerts:select', 'metrics.pms_health:select', 'metrics.queue_depths:select',
        'metrics.waha_sessions:select', 'ops.alert_rules:select', 'ops.alerts:select',
        'ops.pms_outages:select', 'ops.webhook_refusals:select'],
  'signed-in users may only read the metrics views and the tables behind them'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('ops', 'metrics') and has_function_privilege('authenticated', p.oid, 'execute')),
  array['metrics.tenant_metrics(timestamp with time zone,timestamp with time zone,uuid)',
        'metrics.tenant_metrics_series(timestamp with time zone,timestamp with time zone,interval,text,uuid)'],
  'signed-in users may call the tenant metrics (a window, or a series of them) and nothing in ops'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('ops', 'metrics') and p.prokind = 'f'
     and not ('search_path=""' = any (coalesce(p.proconfig, '{}')))),
  '{}'::text[],
  'every ops and metrics function runs with an empty search_path'
);

select is(
  (select has_function_privilege('authenticated', 'internal.hook_password_verification_attempt(jsonb)', 'execute')),
  false,
  'the Auth hook is not callable through the API'
);

select results_eq(
  $$select schedule, command from cron.job where jobname = 'ops-evaluate-alerts'$$,
  $$values ('* * * * *'::text, 'select ops.evaluate_alerts()'::text)$$,
  'pg_cron evaluates the alerts every minute'
);

create extension if not exists plpgsql_check;
-- (materialized: plpgsql_check must only ever see plpgsql functions)
select is(
  (with fns as materialized (
     select p.oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('ops', 'metrics') and p.prolang = (select oid from pg_language where lanname = 'plpgsql')
       and p.prorettype <> 'trigger'::regtype)
   select coalesce(array_agg(f.oid::regprocedure::text || ': ' || c.message), '{}')
   from fns f cross join lateral plpgsql_check_function_tb(f.oid) c
   where c.level = 'error'),
  '{}'::text[],
  'plpgsql_check finds no error in the ops and metrics functions'
);

select is(
  (with triggers as materialized (
     select p.oid, t.tgrelid, t.tgnewtable::text as newtable, t.tgoldtable::text as oldtable
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_trigger t on t.tgfoid = p.oid
     where n.nspname = 'ops')
   select coalesce(array_agg(t.oid::regprocedure::text || ': ' || c.message), '{}')
   from triggers t
   cross join lateral plpgsql_check_function_tb(t.oid, t.tgrelid, newtable => t.newtable, oldtable => t.oldtable) c
   where c.level = 'error'),
  '{}'::text[],
  'nor in the trigger functions, checked against their tables and transition tables'
);

select * from finish();
rollback;
