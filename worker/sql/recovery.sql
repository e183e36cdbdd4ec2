-- Recovery after a database restore (supabase/migrations/20261202007000_restore_recovery.sql).

-- name: lead
select id, since, is_leader, syncs_done
from internal.lead_restore_recovery_v1(%(worker)s, make_interval(secs => %(lease_seconds)s))

-- name: syncs
select pending, failed from internal.restore_recovery_syncs_v1(%(id)s)

-- name: candidates
select id, tenant_id::text as tenant_id, to_phone, body
from internal.restore_recovery_candidates_v1(%(after)s, %(limit)s)

-- name: recorded
select waha_message_id from internal.recorded_waha_ids_v1(%(tenant_id)s::uuid, %(waha_ids)s) as r (waha_message_id)

-- name: settle
select internal.settle_recovered_sends_v1(%(id)s, %(ids)s, %(waha_ids)s, %(epochs)s) as settled

-- name: unverifiable
select internal.mark_unverifiable_v1(%(ids)s) as marked

-- name: finish
select internal.finish_restore_recovery_v1(%(id)s, %(worker)s, %(checked)s, %(already_sent)s, %(unverifiable)s)
  as finished

-- name: begin
-- `ops recover`: opens a recovery right after a restore.
select internal.begin_restore_recovery_v1(%(since)s, %(by)s, %(reason)s) as id

-- name: list
-- `ops recoveries`: the open one and the recent ones, newest first.
select r.id, r.since, r.requested_at, r.requested_by, r.reason, cardinality(r.sync_job_ids) as syncs,
       (select count(*) from public.sync_jobs j where j.id = any (r.sync_job_ids) and j.status in ('pending', 'running'))
         as syncs_running,
       r.syncs_failed, cardinality(r.skipped_configurations) as syncs_skipped, r.leader, r.syncs_done_at,
       r.checked, r.already_sent, r.unverifiable, r.finished_at
from public.restore_recoveries r
order by r.id desc
limit %(limit)s

-- name: tick
-- Opens a recovery itself when the database was restored (20261202007100_restore_marker.sql).
select ticked_at, opened_recovery from internal.tick_database_clock_v1(%(worker)s, %(last_seen)s)
