-- The on-call engineer's queries (`python -m worker ops ...`) and the per-tenant gauges of the
-- worker's /metrics. Figures come from the metrics views and functions of the database, so the
-- CLI, Prometheus and the dashboard agree; actions go through the same SQL functions as the
-- dashboard (replay_inbound_event, resend_message, enqueue_sync_v1).

-- name: tenant_status
select q.tenant_id::text as tenant_id, q.tenant_name,
       w.session_status as waha_status, w.status_changed_at as waha_since, w.sends_paused_reason,
       coalesce(p.configurations, '[]'::jsonb) as pms,
       q.inbound_due, q.inbound_retrying, q.inbound_processing, q.inbound_dead,
       q.messages_due, q.messages_scheduled, q.messages_retrying, q.messages_sending, q.messages_dead,
       q.syncs_pending, q.syncs_running, q.retry_depth, q.dead_letters,
       coalesce(a.open_alerts, 0) as open_alerts
from metrics.queue_depths q
left join metrics.waha_sessions w on w.tenant_id = q.tenant_id
left join lateral (
  select jsonb_agg(jsonb_build_object(
           'provider', h.provider, 'active', h.is_active, 'health', h.health,
           'failures', h.consecutive_failures, 'last_error', h.last_error,
           'last_success_at', h.last_success_at, 'failing_since', h.failing_since,
           'last_sync', h.last_sync_status, 'last_sync_at', h.last_sync_finished_at)
         order by h.provider) as configurations
  from metrics.pms_health h
  where h.tenant_id = q.tenant_id
) p on true
left join lateral (
  select count(*) as open_alerts from ops.alerts x where x.tenant_id = q.tenant_id and x.status = 'open'
) a on true
where %(tenant_id)s::uuid is null or q.tenant_id = %(tenant_id)s::uuid
order by q.tenant_name, q.tenant_id

-- name: platform_status
select d.connections_used, d.connections_max, d.connection_usage, d.active, d.idle_in_transaction,
       d.waiting_on_locks, d.longest_query_seconds, d.statements_available,
       (select count(*) from ops.alerts a where a.tenant_id is null and a.status = 'open') as open_alerts,
       (select count(*) from ops.alerts a where a.status = 'open') as open_alerts_all,
       w.id as maintenance_window_id, w.kind as maintenance_kind, w.ends_at as maintenance_ends_at
from ops.database_metrics() d
left join ops.maintenance_window_at(now()) w on true

-- name: dead_letters
select 'inbound' as queue, e.id, e.tenant_id::text as tenant_id, t.name as tenant_name,
       e.source::text || '/' || e.provider || ' ' || e.event_type as what,
       e.attempts, e.replay_count as replays, e.updated_at as dead_since, e.last_error as reason,
       e.request_id
from public.inbound_events e
join public.tenants t on t.id = e.tenant_id
where e.status = 'dead' and %(queue)s in ('all', 'inbound')
  and (%(tenant_id)s::uuid is null or e.tenant_id = %(tenant_id)s::uuid)
union all
select 'message', m.id, m.tenant_id::text, t.name,
       m.template_key || coalesce(' to ' || m.to_phone, ''),
       m.attempts, null, m.updated_at, m.last_error, m.request_id
from public.message_logs m
join public.tenants t on t.id = m.tenant_id
where m.status = 'dead' and %(queue)s in ('all', 'messages')
  and (%(tenant_id)s::uuid is null or m.tenant_id = %(tenant_id)s::uuid)
order by dead_since desc, queue, id desc
limit %(limit)s

-- name: event
select e.id, e.tenant_id::text as tenant_id, e.status::text as status, e.attempts, e.last_error
from public.inbound_events e
where e.id = %(id)s

-- name: replay_event
select public.replay_inbound_event(%(id)s) as replayed

-- name: message
select m.id, m.tenant_id::text as tenant_id, m.status::text as status, m.attempts, m.last_error
from public.message_logs m
where m.id = %(id)s

-- name: resend_message
select public.resend_message(%(id)s) as resent

-- name: find_tenants
select t.id::text as id, t.name
from public.tenants t
where t.id::text = lower(%(ref)s) or lower(t.name) = lower(%(ref)s)
order by t.name, t.id

-- name: pms_configurations
select c.id::text as id, c.provider::text as provider, c.is_active
from public.pms_configurations c
where c.tenant_id = %(tenant_id)s::uuid
order by c.provider

-- name: enqueue_sync
select internal.enqueue_sync_v1(%(configuration_id)s::uuid, %(kind)s::public.sync_kind, 'manual', null,
                              %(request_id)s)::text as job_id

-- name: sync_job
select j.id::text as id, j.status::text as status, j.request_id
from public.sync_jobs j
where j.id = %(id)s::uuid

-- name: trace
select t.at, t.entity, t.entity_id, t.tenant_id::text as tenant_id, t.change, t.detail,
       %(request_id)s::text as request_id
from ops.trace_request(%(request_id)s) t

-- name: trace_kind
-- What an id given to `ops trace` names: a reservation, a sync job, or else a request id.
select case
         when exists (select 1 from public.reservations r where r.id::text = lower(%(ref)s)) then 'reservation'
         when exists (select 1 from public.sync_jobs j where j.id::text = lower(%(ref)s)) then 'job'
         else 'request'
       end as kind

-- name: trace_reservation
select t.at, t.entity, t.entity_id, t.tenant_id::text as tenant_id, t.change, t.detail, t.request_id
from ops.trace_reservation(%(id)s::uuid) t

-- name: trace_job
select t.at, t.entity, t.entity_id, t.tenant_id::text as tenant_id, t.change, t.detail, t.request_id
from ops.trace_job(%(id)s::uuid) t

-- name: alerts
select a.id, a.rule_key as rule, a.severity, a.status, a.tenant_id::text as tenant_id, t.name as tenant_name,
       a.summary, r.metric, a.value, r.comparison, a.threshold, a.opened_at, a.last_seen_at, a.resolved_at,
       a.acknowledged_at, a.acknowledged_by, r.runbook, r.runbook_url, a.maintenance_window_id,
       coalesce((select jsonb_agg(jsonb_build_object('event', n.event, 'target', n.target, 'status', n.status,
                                                     'attempts', n.attempts, 'error', n.last_error)
                                  order by n.id)
                 from ops.notifications n where n.alert_id = a.id), '[]'::jsonb) as notifications
from ops.alerts a
join ops.alert_rules r on r.key = a.rule_key
left join public.tenants t on t.id = a.tenant_id
where (a.status = 'open' or (%(include_resolved)s and a.opened_at > now() - interval '7 days'))
  and (%(tenant_id)s::uuid is null or a.tenant_id = %(tenant_id)s::uuid)
order by a.status, case a.severity when 'critical' then 0 else 1 end, a.opened_at desc, a.id desc

-- name: evaluate_alerts
select e.alerts_opened, e.alerts_resolved, e.alerts_open, e.notifications_sent
from ops.evaluate_alerts() e

-- name: acknowledge_alert
select ops.acknowledge_alert(%(id)s, %(by)s) as acknowledged

-- name: tenant_gauges
-- Rates over the alert rules' window (15 minutes), state as it is now.
select m.tenant_id::text as tenant_id, m.tenant_name,
       m.message_failure_rate, m.message_delivery_rate, m.webhook_failure_rate,
       m.pms_webhook_failure_rate, m.waha_webhook_failure_rate, m.pms_webhooks_refused, m.waha_webhooks_refused,
       m.messages_sent, m.webhooks_received,
       q.inbound_due, q.messages_due, q.syncs_pending,
       q.inbound_retrying, q.messages_retrying, q.inbound_dead, q.messages_dead,
       w.is_connected as waha_connected,
       coalesce((select count(*) from metrics.pms_health h
                 where h.tenant_id = m.tenant_id and h.is_active and h.health = 'failing'), 0) as pms_failing,
       coalesce((select count(*) from ops.alerts a where a.tenant_id = m.tenant_id and a.status = 'open'), 0)
         as open_alerts
from metrics.tenant_metrics(now() - interval '15 minutes', now()) m
join metrics.queue_depths q on q.tenant_id = m.tenant_id
left join metrics.waha_sessions w on w.tenant_id = m.tenant_id

-- name: platform_gauges
select d.connection_usage, d.connections_used, d.longest_query_seconds,
       ops.denied_calls(now() - interval '15 minutes') as denied_calls,
       -- null until a Postgres log has been read (unknown, not zero)
       (select coalesce(sum(r.refused), 0) from ops.rls_refusals r
        where r.minute >= date_trunc('minute', now() - interval '15 minutes')
        having exists (select 1 from ops.log_cursors)) as rls_refused_writes,
       (select count(*) filter (where a.severity = 'critical') from ops.alerts a where a.status = 'open')
         as open_critical,
       (select count(*) filter (where a.severity = 'warning') from ops.alerts a where a.status = 'open')
         as open_warning
from ops.database_metrics() d

-- name: ensure_scheduled_windows
select ops.ensure_scheduled_windows() as created

-- name: maintenance_windows
-- The window in force, the ones to come, and those of the last 7 days, with their notices.
select w.id, w.kind, w.starts_at, w.ends_at, w.components::text[] as components, w.reason, w.notice_at,
       w.created_by, w.cancelled_at, w.cancelled_by,
       (w.starts_at <= now() and now() < w.ends_at and w.cancelled_at is null) as in_force,
       coalesce(n.total, 0) as notices, coalesce(n.delivered, 0) as notices_delivered,
       coalesce(n.failed, 0) as notices_failed
from ops.maintenance_windows w
left join lateral (
  select count(*) as total, count(*) filter (where x.status = 'delivered') as delivered,
         count(*) filter (where x.status = 'failed') as failed
  from ops.maintenance_notices x where x.window_id = w.id
) n on true
where w.ends_at > now() - interval '7 days'
order by w.starts_at, w.id

-- name: schedule_emergency
select ops.schedule_emergency_maintenance(%(starts_at)s, %(duration)s::interval, %(reason)s, %(by)s,
                                          %(components)s::ops.component[]) as id

-- name: cancel_window
select ops.cancel_maintenance_window(%(id)s, %(by)s) as cancelled

-- name: deployments
select d.id, d.started_at, d.finished_at, d.status, d.migrations, d.window_id, d.forced, d.forced_by,
       d.force_reason, d.error
from ops.deployments d
order by d.started_at desc, d.id desc
limit 10
