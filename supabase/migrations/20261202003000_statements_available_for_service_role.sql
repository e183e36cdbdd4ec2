-- ops.statements_available() is granted to service_role but failed when that role called it:
-- it read shared_preload_libraries, which only superusers and members of pg_read_all_settings
-- may examine. It now asks pg_stat_statements itself, which refuses to answer (55000) unless
-- its library is preloaded, and runs as its owner like the other ops functions that read
-- server statistics.
create or replace function ops.statements_available() returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_schema text;
begin
  select n.nspname::text into v_schema
  from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pg_stat_statements';
  if v_schema is null then
    return false;
  end if;
  execute format('select 1 from %I.pg_stat_statements_info', v_schema);
  return true;
exception
  when object_not_in_prerequisite_state then
    return false;
end
$$;

revoke all on function ops.statements_available() from public, anon, authenticated;
grant execute on function ops.statements_available() to service_role;
