-- The dashboard's metrics screen (issue 14, item 9): the runbook's per-tenant figures over time,
-- and the alerts with what a person needs to read them.
--
-- 1. metrics.tenant_metrics_series: metrics.tenant_metrics once per bucket of a window, in one
--    call. The buckets follow the property's clock: they start at local midnight plus whole
--    steps (hours at :00, days at midnight, across DST changes), so a "day" on the chart is the
--    hotel's day. The first bucket starts at or before p_since (the bucket p_since falls in);
--    the last one ends at p_until. Same rights as tenant_metrics (security invoker, RLS).
-- 2. metrics.alerts gains the rule's comparison, lookback and runbook link, so the screen can say
--    "60.0% > 10.0% over 15 min" in the reader's language and link the runbook section.

create function metrics.tenant_metrics_series(
  p_since timestamptz,
  p_until timestamptz,
  p_step interval,
  p_timezone text default 'UTC',
  p_tenant_id uuid default null
) returns table (
  tenant_id uuid,
  tenant_name text,
  since timestamptz,
  until timestamptz,
  webhooks_attempted bigint,
  webhooks_received bigint,
  webhooks_succeeded bigint,
  webhooks_failed bigint,
  webhooks_refused bigint,
  webhooks_in_flight bigint,
  webhook_success_rate numeric,
  webhook_failure_rate numeric,
  pms_webhooks_attempted bigint,
  pms_webhooks_succeeded bigint,
  pms_webhooks_failed bigint,
  pms_webhooks_refused bigint,
  pms_webhook_success_rate numeric,
  pms_webhook_failure_rate numeric,
  waha_webhooks_attempted bigint,
  waha_webhooks_succeeded bigint,
  waha_webhooks_failed bigint,
  waha_webhooks_refused bigint,
  waha_webhook_success_rate numeric,
  waha_webhook_failure_rate numeric,
  syncs_finished bigint,
  syncs_failed bigint,
  sync_failure_rate numeric,
  sync_seconds_avg numeric,
  sync_seconds_p95 numeric,
  sync_seconds_max numeric,
  reservations_failed_to_sync bigint,
  messages_attempted bigint,
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
  v_local_since timestamp;
  v_local_until timestamp;
  v_first timestamp;
  v_buckets bigint;
begin
  if p_since is null or p_until is null or p_since >= p_until then
    raise exception 'the window needs p_since < p_until' using errcode = 'invalid_parameter_value';
  end if;
  if p_step is null or p_step < interval '1 minute' or p_step > interval '31 days' then
    raise exception 'the step must be between 1 minute and 31 days' using errcode = 'invalid_parameter_value';
  end if;
  if p_timezone is null then
    raise exception 'the time zone is missing' using errcode = 'invalid_parameter_value';
  end if;
  -- An unknown zone raises 22023 (invalid_parameter_value) here.
  v_local_since := p_since at time zone p_timezone;
  v_local_until := p_until at time zone p_timezone;
  -- The bucket p_since falls in: local midnight plus whole steps (steps of a day or more start
  -- at local midnight).
  v_first := date_trunc('day', v_local_since);
  if p_step < interval '1 day' then
    v_first := v_first + p_step * floor(extract(epoch from v_local_since - v_first) / extract(epoch from p_step));
  end if;
  v_buckets := ceil(extract(epoch from v_local_until - v_first) / extract(epoch from p_step));
  if v_buckets > 400 then
    raise exception 'at most 400 buckets per call (asked for %)', v_buckets using errcode = 'invalid_parameter_value';
  end if;

  return query
  with bounds as (
    -- Local boundaries back to instants; a boundary inside a DST gap or repeat may land on its
    -- neighbour's instant, so equal instants collapse into one and no bucket is empty.
    select distinct least(b at time zone p_timezone, p_until) as at
    from generate_series(v_first, v_local_until, p_step) b
    union
    select p_until
  ),
  buckets as (
    select x.at as since, lead(x.at) over (order by x.at) as until from bounds x
  )
  select m.*
  from buckets k
  cross join lateral metrics.tenant_metrics(k.since, k.until, p_tenant_id) m
  where k.until is not null
  order by m.tenant_name, m.tenant_id, m.since;
end
$$;

revoke all on function metrics.tenant_metrics_series(timestamptz, timestamptz, interval, text, uuid) from public, anon;
grant execute on function metrics.tenant_metrics_series(timestamptz, timestamptz, interval, text, uuid)
  to authenticated, service_role;

-- New columns go at the end (create or replace view keeps the existing ones in place).
create or replace view metrics.alerts with (security_invoker = true) as
select a.id, a.rule_key, a.severity, r.metric, a.tenant_id, a.status, a.summary, a.value, a.threshold,
       a.opened_at, a.last_seen_at, a.resolved_at, a.acknowledged_at, r.runbook,
       r.comparison, r.lookback, r.runbook_url
from ops.alerts a
join ops.alert_rules r on r.key = a.rule_key;
