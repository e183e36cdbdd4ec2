-- What the Data API exposes in `public` is the tenant contract and nothing else: every function
-- there is a dashboard RPC (executable by signed-in users) or a trigger function. The worker's
-- and the edge functions' functions live in `internal`, which no API role can use. A function
-- added to public by mistake (a new claim_…_v5 created there) fails the first test.
begin;
select plan(7);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'public'
     and p.prorettype <> 'trigger'::regtype
     and not has_function_privilege('authenticated', p.oid, 'execute')
     -- functions of extensions installed into public are not ours
     and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')),
  '{}'::text[],
  'every function in public is a tenant RPC (granted to authenticated) or a trigger function'
);

select is(
  (select array[has_schema_privilege('anon', 'internal', 'usage'),
                has_schema_privilege('authenticated', 'internal', 'usage'),
                has_schema_privilege('service_role', 'internal', 'usage')]),
  array[false, false, true],
  'only the service role may use the internal schema'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'internal'
     and (has_function_privilege('anon', p.oid, 'execute')
          or has_function_privilege('authenticated', p.oid, 'execute')
          or not has_function_privilege('service_role', p.oid, 'execute'))),
  '{}'::text[],
  'every internal function is executable by the service role and by no API role'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'internal' and p.prokind = 'f'
     and not ('search_path=""' = any (coalesce(p.proconfig, '{}')))),
  '{}'::text[],
  'every internal function runs with an empty search_path'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('internal', 'public', 'private', 'ops', 'metrics')
     and p.prosrc ~ 'public\.[a-z_]+_v[0-9]+\('),
  '{}'::text[],
  'no function body still calls a service function in public'
);

select is(
  (select coalesce(array_agg(j.command), '{}') from cron.job j where j.command ~ 'public\.[a-z_]+_v[0-9]+\('),
  '{}'::text[],
  'nor does a pg_cron job'
);

select ok(
  to_regprocedure('internal.claim_messages_v4(text, integer, interval, interval)') is not null
    and to_regprocedure('public.claim_messages_v4(text, integer, interval, interval)') is null,
  'the worker''s claim is in internal, and no longer in public'
);

select * from finish();
rollback;
