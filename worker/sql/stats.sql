-- Queue figures for the worker's /metrics gauges (each an index-only or partial-index scan).

-- name: queue_stats
select 'inbound_events' as queue,
       count(*) filter (where status = 'pending' and next_attempt_at <= now()) as due,
       count(*) filter (where status = 'pending' and attempts > 0) as retrying,
       (select count(*) from public.inbound_events d where d.status = 'dead') as dead
from public.inbound_events where status = 'pending'
union all
select 'message_logs',
       count(*) filter (where next_attempt_at <= now()),
       count(*) filter (where status = 'failed'),
       (select count(*) from public.message_logs d where d.status = 'dead')
from public.message_logs where status in ('scheduled', 'queued', 'failed')
union all
select 'sync_jobs',
       count(*) filter (where next_attempt_at <= now()),
       count(*) filter (where attempts > 0),
       (select count(*) from public.sync_jobs d where d.status = 'failed' and d.finished_at > now() - interval '1 day')
from public.sync_jobs where status = 'pending'

-- name: ping
select 1 as ok
