-- Worker liveness (supabase/migrations/20261202001100_worker_liveness.sql): run on the worker's
-- own long-lived connection, which holds the liveness lock.

-- name: register
select public.register_worker_v1(%(worker)s, %(incarnation)s) as registered

-- name: deregister
select public.deregister_worker_v1(%(worker)s, %(incarnation)s) as taken_back

-- name: reclaim
-- Both queues of workers found dead (20261202001300_dead_workers_events.sql).
select messages, events
from public.reclaim_dead_workers_v1(%(worker)s, make_interval(secs => %(grace_seconds)s))
