-- Message queue (supabase/migrations/20261126000500_messaging.sql, 20261126003200_pacing_from_the_send.sql,
-- 20261127000100_record_sends_in_batches.sql, 20261127000200_claim_ahead_of_the_gap.sql).

-- name: claim
-- claim_messages_v6 (20261203007100_conversation_ingest_and_replies.sql) is v5
-- (20261202001100_worker_liveness.sql: first takes back the sends of dead workers) with a
-- session's staff replies (priority 1) claimed ahead of its automations.
select id, tenant_id::text as tenant_id, reservation_id::text as reservation_id, request_id,
       job_id::text as job_id, attempts, max_attempts, send_in_ms, send_uncertain, created_epoch
from internal.claim_messages_v6(
  %(worker)s, %(limit)s, make_interval(secs => %(lease_seconds)s), make_interval(secs => %(ahead_seconds)s),
  make_interval(secs => %(grace_seconds)s))

-- name: leased
select id from internal.leased_messages_v1(%(ids)s, %(worker)s) as l (id)

-- name: prepare
-- v2: a reply a member confirmed for an opted-out guest goes out (20261203007100).
select id, to_phone, body, language
from internal.prepare_messages_v2(%(ids)s, %(worker)s)

-- name: mark_sent_many
select id, session_ready_in_ms
from internal.mark_messages_sent_v1(%(worker)s, %(ids)s, %(waha_message_ids)s, %(accepted_ms_ago)s)

-- name: fail
select internal.fail_message_v1(
  %(id)s, %(worker)s, %(error)s, %(retryable)s,
  make_interval(secs => %(base_seconds)s), make_interval(secs => %(max_seconds)s)
)::text as status

-- name: release
select internal.release_messages_v1(%(ids)s, %(worker)s, %(reason)s, make_interval(secs => %(delay_seconds)s))
  as released

-- name: pause_tenant
select internal.pause_tenant_sends_v1(%(tenant_id)s, %(reason)s)

-- name: waha_connections
-- The WhatsApp connection of every tenant in a batch, in one query (a batch spans up to one
-- message per session, i.e. hundreds of tenants).
select w.tenant_id::text as tenant_id, w.base_url, w.session_name, k.api_key
from public.waha_configurations w
left join private.waha_api_keys k on k.waha_configuration_id = w.id
where w.tenant_id = any (%(tenant_ids)s::uuid[])

-- name: next_due
select internal.next_message_due_v1() as next_at

-- name: paused_sessions
select w.tenant_id::text as tenant_id, w.base_url, w.session_name, k.api_key, w.sends_paused_reason as reason
from public.waha_configurations w
left join private.waha_api_keys k on k.waha_configuration_id = w.id
where w.sends_paused_at is not null and w.sends_paused_at < now() - make_interval(secs => %(min_age_seconds)s)
  -- Held by hand (pause_tenant_sends): only resume_tenant_sends lifts it, WAHA's answer cannot.
  and w.sends_held_at is null

-- name: record_session_status
-- What WAHA answered now for a paused session (internal.record_session_status_v1 lifts the pause
-- on WORKING).
select internal.record_session_status_v1(%(tenant_id)s::uuid, %(session)s, %(status)s, now()) as applied

-- name: take_back_orphans
-- Claims of this worker it no longer tracks (20261202001200_orphaned_claims.sql).
select internal.take_back_orphaned_claims_v1(%(worker)s, %(keep)s) as taken_back
