-- Inbound event queue (supabase/migrations/20261126000400_inbound_events.sql holds the rules).

-- name: claim
select id, tenant_id::text as tenant_id, source::text as source, provider, event_id, event_type,
       payload, request_id, attempts, max_attempts
from internal.claim_inbound_events_v1(%(worker)s, %(limit)s, make_interval(secs => %(lease_seconds)s))

-- name: complete
select internal.complete_inbound_events_v1(%(ids)s, %(worker)s, %(status)s::public.inbound_event_status) as id

-- name: fail
select internal.fail_inbound_event_v1(
  %(id)s, %(worker)s, %(error)s, %(retryable)s,
  make_interval(secs => %(base_seconds)s), make_interval(secs => %(max_seconds)s)
)::text as status

-- name: release
select internal.release_inbound_events_v1(%(ids)s, %(worker)s) as released

-- name: upsert_reservation
-- p_notify false: the worker wakes its own sender after the commit (20261127000300).
select reservation_id::text as reservation_id, outcome
from internal.upsert_reservation_v2(%(tenant_id)s, %(reservation)s, %(request_id)s, %(job_id)s, false)

-- name: pms_configuration_for
select id::text as id from public.pms_configurations
where tenant_id = %(tenant_id)s and provider::text = %(provider)s

-- name: enqueue_reservation_sync
select internal.enqueue_sync_v1(
  %(pms_configuration_id)s, 'reservation', 'webhook', %(pms_reservation_id)s, %(request_id)s
)::text as job_id

-- name: record_message_ack
select internal.record_message_ack_v1(%(tenant_id)s, %(waha_message_id)s, %(ack)s)::text as status

-- name: set_session_status
select internal.record_session_status_v1(%(tenant_id)s, %(session)s, %(status)s, %(reported_at)s) as applied

-- name: pause_tenant_sends
select internal.pause_tenant_sends_v1(%(tenant_id)s, %(reason)s)


-- name: record_conversation_message
-- 20261203007100_conversation_ingest_and_replies.sql
select outcome, conversation_id::text as conversation_id, message_id, consent_change
from internal.record_conversation_message_v1(
  %(tenant_id)s, %(session)s, %(chat_id)s, %(waha_message_id)s, %(from_me)s, %(sent_at)s, %(body)s,
  %(contact_name)s, %(media)s, %(language)s, %(consent)s)
