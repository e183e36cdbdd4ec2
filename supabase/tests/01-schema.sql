-- Smoke test of the schema's security posture: it enumerates the catalog, so a table or
-- function added later without RLS or with a loose grant fails here.
begin;
select plan(9);

select is(
  (select coalesce(array_agg(c.relname::text order by c.relname), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and not c.relrowsecurity),
  '{}'::text[],
  'every table in public and private has row level security enabled'
);

select is(
  (select coalesce(array_agg(distinct c.relname::text), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private') and c.relkind in ('r', 'p', 'v', 'm')
     and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert')
       or has_table_privilege('anon', c.oid, 'update') or has_table_privilege('anon', c.oid, 'delete'))),
  '{}'::text[],
  'anon has no privilege on any table or view'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private') and has_function_privilege('anon', p.oid, 'execute')),
  '{}'::text[],
  'anon can execute no function of ours'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private') and p.prokind = 'f'
     and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) s where s like 'search_path=%')),
  '{}'::text[],
  'every function of ours pins its search_path'
);

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private') and p.prosecdef
     and not ('search_path=""' = any (coalesce(p.proconfig, '{}')))),
  '{}'::text[],
  'security definer functions use an empty search_path'
);

select is(
  (select coalesce(array_agg(c.relname::text order by c.relname), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'private' and c.relkind = 'r'
     and (has_table_privilege('authenticated', c.oid, 'select')
       or has_table_privilege('authenticated', c.oid, 'insert')
       or has_table_privilege('authenticated', c.oid, 'update'))),
  '{}'::text[],
  'authenticated users cannot touch any private table (secrets live there)'
);

-- Service functions (queues, lookups of secrets) are not callable by signed-in users.
select is(
  (select coalesce(array_agg(p.proname::text order by p.proname), '{}')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'public' and p.proname ~ '_v[0-9]+$'
     and has_function_privilege('authenticated', p.oid, 'execute')),
  '{}'::text[],
  'versioned service functions are not executable by authenticated'
);

select set_eq(
  $$select tablename::text from pg_publication_tables where pubname = 'supabase_realtime'$$,
  array['inbound_events', 'message_logs', 'conversations', 'conversation_messages', 'conversation_notes'],
  'the worker''s wake-up tables and the live inbox''s tables are published to Realtime'
);

select is(
  (select coalesce(array_agg(pol.polname::text order by pol.polname), '{}') from pg_policy pol
   where pol.polcmd in ('a', 'w') and pol.polwithcheck is null),
  '{}'::text[],
  'every insert and update policy has a with check'
);

select * from finish();
rollback;
