-- Recovery after a database restore (docs/runbook.md, "Restoring the database").
--
-- A restored database is up to a day behind the world: bookings made since the backup are
-- missing, and every message sent since then is `queued` (or `sending`) again. Sending that
-- state as it is messages guests twice. An operator opens a recovery right after the restore
-- (`hotel-worker ops recover --since <backup time>`): the workers hold every send until one of
-- them has synced each PMS over the gap and settled, against WAHA's chat history, the messages
-- that went out in the gap. One recovery is open at a time.
--
-- The worker's functions live in `internal` (not exposed by the Data API); the schema may not
-- exist yet on a branch without it, so it is created here the way the schema's own migration does.

create schema if not exists internal;
revoke all on schema internal from public;
grant usage on schema internal to service_role;

create table public.restore_recoveries (
  id bigint generated always as identity primary key,
  -- When the backup was taken (or the PITR target): everything after it is in doubt.
  since timestamptz not null,
  requested_at timestamptz not null default now(),
  requested_by text not null check (length(requested_by) between 1 and 200),
  reason text not null check (length(reason) between 1 and 500),
  -- The PMS syncs it asked for (one per active configuration).
  sync_job_ids uuid[] not null default '{}',
  -- Configurations whose sync is paused (rejected credentials): not synced, named in the report.
  skipped_configurations uuid[] not null default '{}',
  -- The worker running it, and until when (another takes over after that).
  leader text,
  lead_until timestamptz,
  syncs_done_at timestamptz,
  syncs_failed integer not null default 0 check (syncs_failed >= 0),
  -- Messages due that were checked with WAHA, found sent there, and those whose session keeps no
  -- history to ask (sent at least once: counted, marked send_uncertain).
  checked integer not null default 0 check (checked >= 0),
  already_sent integer not null default 0 check (already_sent >= 0),
  unverifiable integer not null default 0 check (unverifiable >= 0),
  finished_at timestamptz,
  check (since <= requested_at),
  check (finished_at is null or syncs_done_at is not null)
);

comment on table public.restore_recoveries is
  'recoveries after a database restore: while one is open, no worker sends (ops recover)';

create unique index restore_recoveries_one_open_idx on public.restore_recoveries ((true))
where finished_at is null;

alter table public.restore_recoveries enable row level security;
revoke all on public.restore_recoveries from anon, authenticated;
grant all on public.restore_recoveries to service_role;

-- Opens a recovery: the sends that were out at backup time come back in doubt (the sender asks
-- WAHA before sending them, 20261202001100_worker_liveness.sql), each PMS cursor goes back to
-- the backup at least, and an incremental sync is asked for each active configuration.
create function internal.begin_restore_recovery_v1(p_since timestamptz, p_by text, p_reason text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
  v_jobs uuid[];
  v_skipped uuid[];
begin
  if p_since is null or p_since > now() then
    raise exception 'the backup time must be in the past' using errcode = 'invalid_parameter_value';
  end if;
  if p_since < now() - interval '35 days' then
    raise exception 'the backup time % is older than any backup Supabase keeps', p_since
      using errcode = 'invalid_parameter_value';
  end if;
  if exists (select 1 from public.restore_recoveries r where r.finished_at is null) then
    raise exception 'a recovery is already open' using errcode = 'unique_violation';
  end if;

  update public.message_logs m
  set status = 'queued', send_uncertain = true, lease_owner = null, lease_expires_at = null,
      last_error = 'out when the backup was taken: checked with WAHA before any resend'
  where m.status = 'sending';
  -- Liveness rows of the processes of before the restore stay: no one holds their locks any
  -- more, so they read as dead workers with nothing out. A live caller's own row stays too.

  update public.pms_configurations c
  set sync_cursor = least(c.sync_cursor, p_since)
  where c.is_active and c.sync_cursor > p_since;

  select coalesce(array_agg(private.enqueue_sync(c.id, 'incremental', 'recovery', null, null, null) order by c.id), '{}')
  into v_jobs
  from public.pms_configurations c
  where c.is_active and c.sync_paused_at is null;

  select coalesce(array_agg(c.id order by c.id), '{}') into v_skipped
  from public.pms_configurations c
  where c.is_active and c.sync_paused_at is not null;

  insert into public.restore_recoveries (since, requested_by, reason, sync_job_ids, skipped_configurations)
  values (p_since, p_by, p_reason, v_jobs, v_skipped)
  returning id into v_id;
  return v_id;
end
$$;

-- The open recovery, led by `p_worker` if no other worker leads it (or its lead ran out).
-- `is_leader` says whether the caller now runs it; the others only hold their sends.
create function internal.lead_restore_recovery_v1(p_worker text, p_lease interval default '1 minute')
returns table (id bigint, since timestamptz, is_leader boolean, syncs_done boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with open as (
    select r.id from public.restore_recoveries r where r.finished_at is null for update
  ),
  led as (
    update public.restore_recoveries r
    set leader = p_worker, lead_until = now() + p_lease
    from open o
    where r.id = o.id and (r.leader is null or r.leader = p_worker or r.lead_until < now())
    returning r.id
  )
  select r.id, r.since, exists (select 1 from led where led.id = r.id), r.syncs_done_at is not null
  from public.restore_recoveries r join open o on o.id = r.id;
end
$$;

-- Whether the recovery's syncs have all ended; when they have, records it (and how many failed:
-- those PMSs are to be synced again by hand, the runbook says how).
create function internal.restore_recovery_syncs_v1(p_id bigint)
returns table (pending integer, failed integer)
language plpgsql
set search_path = ''
as $$
declare
  v_pending integer;
  v_failed integer;
begin
  select count(*) filter (where j.status in ('pending', 'running')),
         count(*) filter (where j.status in ('failed', 'cancelled'))
  into v_pending, v_failed
  from public.restore_recoveries r
  cross join lateral unnest(r.sync_job_ids) as s (job_id)
  join public.sync_jobs j on j.id = s.job_id
  where r.id = p_id;
  if v_pending = 0 then
    update public.restore_recoveries r set syncs_done_at = coalesce(r.syncs_done_at, now()), syncs_failed = v_failed
    where r.id = p_id;
  end if;
  return query select v_pending, v_failed;
end
$$;

-- Messages that were due by now and are not settled: each may have gone out in the gap (the
-- restored row, or the one the sync planned again for a booking made in the gap). Paged by id.
create function internal.restore_recovery_candidates_v1(p_after bigint, p_limit integer default 1000)
returns table (id bigint, tenant_id uuid, to_phone text, body text)
language sql
stable
set search_path = ''
as $$
  select m.id, m.tenant_id, m.to_phone, m.body
  from public.message_logs m
  where m.status in ('scheduled', 'queued', 'failed')
    and m.next_attempt_at <= now()
    and m.to_phone is not null
    and m.id > p_after
  order by m.id
  limit p_limit
$$;

-- Of WAHA's message ids, those already recorded for one of the tenant's messages.
create function internal.recorded_waha_ids_v1(p_tenant uuid, p_waha_ids text[])
returns setof text
language sql
stable
set search_path = ''
as $$
  select m.waha_message_id from public.message_logs m
  where m.tenant_id = p_tenant and m.waha_message_id = any (p_waha_ids)
$$;

-- Messages WAHA's chat history shows went out in the gap: sent, with WAHA's id and time, never
-- resent. A row settled meanwhile (or an id already recorded) is left alone. Returns how many.
-- Through `sending`, the only way into `sent` the message state machine allows (its pacing
-- trigger restarts the session's gap, which the held sends do not notice).
create function internal.settle_recovered_sends_v1(
  p_id bigint, p_ids bigint[], p_waha_ids text[], p_sent_epochs double precision[]
) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_worker text := format('restore-recovery-%s', p_id);
  v_count integer;
begin
  with found as (
    select f.id, f.waha_id
    from unnest(p_ids, p_waha_ids) as f (id, waha_id)
  )
  update public.message_logs m
  set status = 'sending', lease_owner = v_worker, lease_expires_at = now() + interval '1 minute'
  from found f
  where m.id = f.id
    and m.status in ('scheduled', 'queued', 'failed')
    and not exists (
      select 1 from public.message_logs x where x.tenant_id = m.tenant_id and x.waha_message_id = f.waha_id);

  with found as (
    select f.id, f.waha_id, f.epoch
    from unnest(p_ids, p_waha_ids, p_sent_epochs) as f (id, waha_id, epoch)
  )
  update public.message_logs m
  set status = 'sent', waha_message_id = f.waha_id, sent_at = to_timestamp(f.epoch),
      send_uncertain = false, lease_owner = null, lease_expires_at = null,
      last_error = format('found in WAHA''s chat history by restore recovery %s', p_id)
  from found f
  where m.id = f.id and m.status = 'sending' and m.lease_owner = v_worker;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Messages whose session cannot say what it sent: they go out (at least once), in doubt.
create function internal.mark_unverifiable_v1(p_ids bigint[]) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.message_logs m set send_uncertain = true
  where m.id = any (p_ids) and m.status in ('scheduled', 'queued', 'failed');
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Ends the recovery: sending resumes on every worker at its next check.
create function internal.finish_restore_recovery_v1(
  p_id bigint, p_worker text, p_checked integer, p_already_sent integer, p_unverifiable integer
) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.restore_recoveries r
  set finished_at = now(), checked = p_checked, already_sent = p_already_sent, unverifiable = p_unverifiable,
      leader = null, lead_until = null
  where r.id = p_id and r.finished_at is null and r.syncs_done_at is not null and r.leader = p_worker;
  return found;
end
$$;

revoke all on function internal.begin_restore_recovery_v1(timestamptz, text, text) from public, anon, authenticated;
revoke all on function internal.lead_restore_recovery_v1(text, interval) from public, anon, authenticated;
revoke all on function internal.restore_recovery_syncs_v1(bigint) from public, anon, authenticated;
revoke all on function internal.restore_recovery_candidates_v1(bigint, integer) from public, anon, authenticated;
revoke all on function internal.recorded_waha_ids_v1(uuid, text[]) from public, anon, authenticated;
revoke all on function internal.settle_recovered_sends_v1(bigint, bigint[], text[], double precision[])
  from public, anon, authenticated;
revoke all on function internal.mark_unverifiable_v1(bigint[]) from public, anon, authenticated;
revoke all on function internal.finish_restore_recovery_v1(bigint, text, integer, integer, integer)
  from public, anon, authenticated;
grant execute on function internal.begin_restore_recovery_v1(timestamptz, text, text) to service_role;
grant execute on function internal.lead_restore_recovery_v1(text, interval) to service_role;
grant execute on function internal.restore_recovery_syncs_v1(bigint) to service_role;
grant execute on function internal.restore_recovery_candidates_v1(bigint, integer) to service_role;
grant execute on function internal.recorded_waha_ids_v1(uuid, text[]) to service_role;
grant execute on function internal.settle_recovered_sends_v1(bigint, bigint[], text[], double precision[])
  to service_role;
grant execute on function internal.mark_unverifiable_v1(bigint[]) to service_role;
grant execute on function internal.finish_restore_recovery_v1(bigint, text, integer, integer, integer)
  to service_role;
