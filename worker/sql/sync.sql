-- The sync job runner's queries (worker/sync/store.py has one method per query).

-- name: claim_job
select j.id, j.tenant_id, j.pms_configuration_id, j.kind::text as kind, j.trigger::text as trigger,
  j.pms_reservation_id, j.request_id, j.attempts, j.started_at
from internal.claim_sync_job_v1(%(worker)s, %(lease)s) as j;

-- name: heartbeat
select internal.heartbeat_sync_job_v1(%(job_id)s, %(worker)s, %(lease)s) as held;

-- name: connection
select c.tenant_id, c.provider, c.api_base_url, c.external_account_id, c.credentials,
  x.is_active, x.sync_cursor, x.sync_paused_reason, x.property_timezones
from internal.pms_connection_v1(%(configuration_id)s) as c
cross join internal.pms_sync_context_v1(%(configuration_id)s) as x;

-- name: upsert_reservations
select u.ord, u.pms_reservation_id, u.reservation_id, u.outcome, u.error
from internal.upsert_reservations_v1(%(tenant_id)s, %(reservations)s, %(request_id)s, %(job_id)s) as u
order by u.ord;

-- name: finish
select internal.finish_pms_sync_v1(
  %(job_id)s, %(worker)s, %(succeeded)s, %(counts)s, %(error)s, %(pms_outcome)s, %(cursor)s
) as finished;

-- name: enqueue
select internal.enqueue_sync_v1(
  %(configuration_id)s, %(kind)s::public.sync_kind, %(trigger)s::public.sync_trigger,
  %(pms_reservation_id)s, %(request_id)s
) as job_id;

-- name: schedule
select internal.schedule_pms_syncs_v1() as enqueued;

-- name: absorb_reservation_jobs
select a.job_id, a.pms_reservation_id, a.request_id
from internal.absorb_reservation_jobs_v1(%(job_id)s, %(worker)s, %(limit)s) as a;

-- name: release
select internal.release_sync_job_v1(%(job_id)s, %(worker)s) as released;
