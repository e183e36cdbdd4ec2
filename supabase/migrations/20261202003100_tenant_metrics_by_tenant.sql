-- metrics.tenant_metrics reads only the caller's tenants' rows.
--
-- It filtered the history tables by time alone and left the tenant to row level security, whose
-- `tenant_id in (select private.tenant_ids_for())` is a filter applied row by row: a member's
-- 30-day figures read the whole platform's 30 days, and grew with the number of hotels until
-- the authenticated role's 8 s statement timeout (hosted Supabase) would cancel them. The
-- tenants are now resolved first (the caller's memberships, or every tenant for the back end)
-- and each window is read through an index led by tenant_id. RLS still applies on top.

create index message_logs_tenant_sent_idx on public.message_logs (tenant_id, sent_at)
where sent_at is not null;
create index message_logs_tenant_failed_updated_idx on public.message_logs (tenant_id, updated_at)
where status in ('failed', 'dead');
create index sync_jobs_tenant_finished_idx on public.sync_jobs (tenant_id, finished_at)
where finished_at is not null;
-- inbound_events already has inbound_events_tenant_received_idx (tenant_id, received_at desc).

create or replace function metrics.tenant_metrics(
  p_since timestamptz default now() - interval '1 hour',
  p_until timestamptz default now(),
  p_tenant_id uuid default null
) returns table (
  tenant_id uuid,
  tenant_name text,
  since timestamptz,
  until timestamptz,
  webhooks_received bigint,
  webhooks_succeeded bigint,
  webhooks_failed bigint,
  webhooks_in_flight bigint,
  webhook_success_rate numeric,
  webhook_failure_rate numeric,
  syncs_finished bigint,
  syncs_failed bigint,
  sync_seconds_avg numeric,
  sync_seconds_p95 numeric,
  sync_seconds_max numeric,
  reservations_failed_to_sync bigint,
  messages_sent bigint,
  messages_delivered bigint,
  messages_read bigint,
  messages_failed bigint,
  messages_dead bigint,
  message_delivery_rate numeric,
  message_failure_rate numeric
)
language plpgsql stable
set search_path = ''
as $$
declare
  v_tenants uuid[];
begin
  if p_since is null or p_until is null or p_since >= p_until then
    raise exception 'the window needs p_since < p_until' using errcode = 'invalid_parameter_value';
  end if;
  if private.is_service_caller() then
    select coalesce(array_agg(t.id), '{}') into v_tenants
    from public.tenants t where p_tenant_id is null or t.id = p_tenant_id;
  else
    select coalesce(array_agg(m.id), '{}') into v_tenants
    from private.tenant_ids_for() m (id) where p_tenant_id is null or m.id = p_tenant_id;
  end if;

  return query
  with webhooks as (
    select e.tenant_id,
           count(*) as received,
           count(*) filter (where e.status in ('succeeded', 'ignored')) as succeeded,
           count(*) filter (where e.status = 'dead' or (e.status = 'pending' and e.attempts > 0)) as failed,
           count(*) filter (where e.status = 'processing' or (e.status = 'pending' and e.attempts = 0)) as in_flight
    from public.inbound_events e
    where e.tenant_id = any (v_tenants) and e.received_at >= p_since and e.received_at < p_until
    group by e.tenant_id
  ),
  syncs as (
    select j.tenant_id,
           count(*) as finished,
           count(*) filter (where j.status = 'failed') as failed,
           avg(extract(epoch from j.finished_at - j.started_at)) filter (where j.status = 'succeeded') as avg_s,
           percentile_cont(0.95) within group (order by extract(epoch from j.finished_at - j.started_at))
             filter (where j.status = 'succeeded') as p95_s,
           max(extract(epoch from j.finished_at - j.started_at)) filter (where j.status = 'succeeded') as max_s,
           sum(j.failed_count) as reservations_failed
    from public.sync_jobs j
    where j.tenant_id = any (v_tenants) and j.finished_at >= p_since and j.finished_at < p_until
      and j.status in ('succeeded', 'failed')
    group by j.tenant_id
  ),
  sent as (
    select m.tenant_id,
           count(*) as sent,
           count(*) filter (where m.status in ('delivered', 'read')) as delivered,
           count(*) filter (where m.status = 'read') as read
    from public.message_logs m
    where m.tenant_id = any (v_tenants) and m.sent_at >= p_since and m.sent_at < p_until
    group by m.tenant_id
  ),
  failing as (
    -- A message sent in the window that WhatsApp then rejected (ack -1) is already counted as
    -- sent: the failure rate's denominator counts it once.
    select m.tenant_id,
           count(*) filter (where m.status = 'failed') as failed,
           count(*) filter (where m.status = 'dead') as dead,
           count(*) filter (where m.sent_at >= p_since and m.sent_at < p_until) as also_sent
    from public.message_logs m
    where m.tenant_id = any (v_tenants) and m.status in ('failed', 'dead')
      and m.updated_at >= p_since and m.updated_at < p_until
    group by m.tenant_id
  )
  select t.id, t.name, p_since, p_until,
         coalesce(w.received, 0), coalesce(w.succeeded, 0), coalesce(w.failed, 0), coalesce(w.in_flight, 0),
         round(w.succeeded::numeric / nullif(w.succeeded + w.failed, 0), 4),
         round(w.failed::numeric / nullif(w.succeeded + w.failed, 0), 4),
         coalesce(s.finished, 0), coalesce(s.failed, 0),
         round(s.avg_s, 3), round(s.p95_s::numeric, 3), round(s.max_s, 3),
         coalesce(s.reservations_failed, 0)::bigint,
         coalesce(x.sent, 0), coalesce(x.delivered, 0), coalesce(x.read, 0),
         coalesce(f.failed, 0), coalesce(f.dead, 0),
         round(x.delivered::numeric / nullif(x.sent, 0), 4),
         round((coalesce(f.failed, 0) + coalesce(f.dead, 0))::numeric
               / nullif(coalesce(x.sent, 0) + coalesce(f.failed, 0) + coalesce(f.dead, 0) - coalesce(f.also_sent, 0), 0), 4)
  from public.tenants t
  left join webhooks w on w.tenant_id = t.id
  left join syncs s on s.tenant_id = t.id
  left join sent x on x.tenant_id = t.id
  left join failing f on f.tenant_id = t.id
  where t.id = any (v_tenants)
  order by t.name, t.id;
end
$$;
