-- A restore the workers notice by themselves, as a safety net under `ops recover`.
--
-- public.database_clock holds one row: the cluster's system identifier and the last time a
-- worker looked (internal.tick_database_clock_v1, every recovery check). Two things give a
-- restore away, and either opens a recovery (if none is open) since the last tick the restored
-- database remembers, which is no later than the backup:
--   * the system identifier differs: the data was restored into another cluster (pg_restore
--     into a fresh one; also a pg_upgrade, where a recovery is harmless);
--   * the last tick is older than one the calling worker saw before: the same database went
--     back in time (a restore in place, a PITR, a failover that lost commits) while the worker
--     ran. The worker holds its sends from the moment it lost its connection until it has
--     ticked again, so nothing goes out in between.
-- A worker that starts fresh on a database restored in place has nothing to compare with: the
-- runbook's procedure (stop the workers, ops recover, start them) covers that case.

create table public.database_clock (
  id boolean primary key default true check (id),
  system_identifier bigint not null,
  ticked_at timestamptz not null
);

comment on table public.database_clock is
  'the last worker tick and the cluster it happened on: a restore moves it back (restore recovery)';

alter table public.database_clock enable row level security;
revoke all on public.database_clock from anon, authenticated;
grant all on public.database_clock to service_role;

create function internal.tick_database_clock_v1(p_worker text, p_last_seen timestamptz)
returns table (ticked_at timestamptz, opened_recovery bigint)
language plpgsql
set search_path = ''
as $$
declare
  v_row public.database_clock;
  v_system bigint;
  v_reason text;
  v_id bigint;
begin
  select s.system_identifier into v_system from pg_catalog.pg_control_system() s;
  select * into v_row from public.database_clock c where c.id for update;
  if v_row.id is null then
    insert into public.database_clock (system_identifier, ticked_at) values (v_system, now())
    on conflict (id) do nothing;
    return query select now(), null::bigint;
    return;
  end if;
  if v_row.system_identifier <> v_system then
    v_reason := format('restored into another cluster (system identifier %s, was %s)', v_system,
                       v_row.system_identifier);
  elsif p_last_seen is not null and v_row.ticked_at < p_last_seen then
    v_reason := format('the database went back in time from %s to %s', p_last_seen, v_row.ticked_at);
  end if;
  if v_reason is not null and not exists (select 1 from public.restore_recoveries r where r.finished_at is null) then
    -- Older than any backup kept: a database dormant that long; the recovery still starts.
    v_id := internal.begin_restore_recovery_v1(
      greatest(least(v_row.ticked_at, now()), now() - interval '35 days' + interval '1 minute'),
      left(format('worker %s', p_worker), 200),
      left(format('detected: %s', v_reason), 500));
  end if;
  update public.database_clock c
  set system_identifier = v_system, ticked_at = greatest(c.ticked_at, now())
  where c.id;
  return query select greatest(v_row.ticked_at, now()), v_id;
end
$$;

revoke all on function internal.tick_database_clock_v1(text, timestamptz) from public, anon, authenticated;
grant execute on function internal.tick_database_clock_v1(text, timestamptz) to service_role;
