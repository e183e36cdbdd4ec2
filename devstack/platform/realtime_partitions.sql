-- What Supabase Realtime does when it connects to a project (Tenants.create_messages_partitions):
-- realtime.messages' daily partitions from yesterday to three days ahead, owned by Realtime's
-- admin role. Without them realtime.send stores nothing and only warns. Run by the Realtime
-- stand-in on start and by devstack when it prepares a database. Idempotent.
do $$
declare
  day date;
  name text;
begin
  for day in select d::date from generate_series(current_date - 1, current_date + 3, interval '1 day') d loop
    name := 'messages_' || to_char(day, 'YYYY_MM_DD');
    if to_regclass('realtime.' || name) is null then
      execute format(
        'create table realtime.%I partition of realtime.messages for values from (%L) to (%L)',
        name, day, day + 1
      );
      execute format('alter table realtime.%I owner to supabase_realtime_admin', name);
    end if;
  end loop;
end
$$;
