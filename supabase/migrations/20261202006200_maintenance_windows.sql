-- Maintenance windows as data (RUNBOOK.md "Maintenance Windows"; issue 17).
--
-- - The scheduled window (Sundays 02:00-04:00 UTC) is a row of ops.maintenance_schedule; its
--   occurrences are rows of ops.maintenance_windows, created four weeks ahead, so one of them can
--   be looked at, announced and referred to like an emergency window.
-- - Emergency windows are announced at least one hour ahead (refused otherwise).
-- - Tenants are told in advance through their notification URL (pg_net, retried like alert
--   notifications): at announcement for an emergency, `notice` ahead for a scheduled window.
-- - An alert opened during a window is annotated with it. Its notifications are held back
--   (status 'held', nobody paged) unless the rule is critical and its component is not one the
--   window touches; a held alert still open when the window ends is paged then.
-- - Migrations run inside a window only: ops.begin_deployment refuses outside one unless forced,
--   and records who forced it and why (ops.deployments). `python -m devstack deploy` calls it.
--
-- Every function that depends on the time takes p_now, so the rules are tested with a set clock.
-- The alert side is two triggers rather than another copy of ops.evaluate_alerts, so later
-- changes to the evaluation keep it.

-- ============================================================================================
-- What a window touches, and what each alert rule is about
-- ============================================================================================
create domain ops.component as text
check (value in ('database', 'webhooks', 'queues', 'messages', 'whatsapp', 'pms', 'auth'));

alter table ops.alert_rules add column component ops.component;
update ops.alert_rules set component = case
  when key like 'message_delivery_failure%' then 'messages'
  when key = 'webhook_processing_failure_critical' then 'webhooks'
  when key in ('database_connection_errors', 'database_connections_exhausted', 'slow_query') then 'database'
  when key in ('authentication_down', 'session_refresh_failures') then 'auth'
  when key = 'retry_queue_depth_high' then 'queues'
  when key = 'whatsapp_disconnected' then 'whatsapp'
  when key = 'pms_unreachable' then 'pms'
end;
comment on column ops.alert_rules.component is
  'what the rule watches; during a maintenance window touching it, the alert is held back (null: touched by none)';

-- ============================================================================================
-- Tables
-- ============================================================================================
create table ops.maintenance_schedule (
  id integer generated always as identity primary key,
  name text not null unique,
  -- 0 = Sunday, as extract(dow).
  weekday integer not null check (weekday between 0 and 6),
  starts_utc time not null,
  duration interval not null check (duration > interval '0' and duration <= interval '12 hours'),
  -- How long ahead tenants are told.
  notice interval not null default '48 hours' check (notice >= interval '1 hour'),
  components ops.component[] not null check (cardinality(components) > 0),
  reason text not null,
  enabled boolean not null default true
);

insert into ops.maintenance_schedule (name, weekday, starts_utc, duration, notice, components, reason)
values ('weekly', 0, '02:00', '2 hours', '48 hours', '{database,webhooks,queues}',
        'scheduled maintenance: database migrations and deployments');

create table ops.maintenance_windows (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('scheduled', 'emergency')),
  schedule_id integer references ops.maintenance_schedule (id) on delete set null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  components ops.component[] not null check (cardinality(components) > 0),
  reason text not null check (length(reason) between 1 and 500),
  -- When tenants are told (queued at the first tick at or after it).
  notice_at timestamptz not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  cancelled_at timestamptz,
  cancelled_by text,
  check (ends_at > starts_at),
  check (notice_at <= starts_at),
  check (kind = 'scheduled' or schedule_id is null),
  unique (schedule_id, starts_at)
);

create index maintenance_windows_time_idx on ops.maintenance_windows (starts_at, ends_at)
where cancelled_at is null;

create table ops.maintenance_notices (
  id bigint generated always as identity primary key,
  window_id bigint not null references ops.maintenance_windows (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- scheduled: the advance notice; cancelled: the window will not happen after all.
  event text not null default 'scheduled' check (event in ('scheduled', 'cancelled')),
  url text not null,
  body jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'delivered', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts > 0),
  next_attempt_at timestamptz not null,
  net_request_id bigint,
  response_status integer,
  last_error text,
  created_at timestamptz not null,
  sent_at timestamptz,
  delivered_at timestamptz,
  unique (window_id, tenant_id, event)
);

create index maintenance_notices_due_idx on ops.maintenance_notices (next_attempt_at) where status = 'pending';
create index maintenance_notices_sent_idx on ops.maintenance_notices (net_request_id) where status = 'sent';

create table ops.deployments (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  migrations text[] not null,
  window_id bigint references ops.maintenance_windows (id),
  forced boolean not null default false,
  forced_by text,
  force_reason text,
  error text,
  -- Outside a window only when forced, and then with who and why.
  check (forced or window_id is not null),
  check (not forced or (length(trim(forced_by)) > 0 and length(trim(force_reason)) > 0))
);

alter table ops.alerts add column maintenance_window_id bigint
  references ops.maintenance_windows (id) on delete set null;

alter table ops.notifications drop constraint notifications_status_check;
alter table ops.notifications add constraint notifications_status_check
  check (status in ('pending', 'held', 'sent', 'delivered', 'failed'));

-- ============================================================================================
-- Windows
-- ============================================================================================

-- The occurrences of the enabled schedules that end after p_now and start before p_now +
-- p_horizon. Idempotent; returns how many it created.
create function ops.ensure_scheduled_windows(p_now timestamptz default now(),
                                             p_horizon interval default '28 days')
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_created integer;
begin
  insert into ops.maintenance_windows (kind, schedule_id, starts_at, ends_at, components, reason, notice_at,
                                       created_by)
  select 'scheduled', s.id, o.starts_at, o.starts_at + s.duration, s.components, s.reason,
         o.starts_at - s.notice, 'schedule ' || s.name
  from ops.maintenance_schedule s
  cross join lateral (
    select (d::date + s.starts_utc) at time zone 'UTC' as starts_at
    from generate_series((p_now at time zone 'UTC')::date - 1, (p_now + p_horizon) at time zone 'UTC', interval '1 day') d
    where extract(dow from d)::integer = s.weekday
  ) o
  where s.enabled and o.starts_at + s.duration > p_now and o.starts_at < p_now + p_horizon
  on conflict (schedule_id, starts_at) do nothing;
  get diagnostics v_created = row_count;
  return v_created;
end
$$;

-- The window in force at p_now (an emergency one first), if any.
create function ops.maintenance_window_at(p_now timestamptz default now()) returns ops.maintenance_windows
language sql stable
set search_path = ''
as $$
  select w.* from ops.maintenance_windows w
  where w.starts_at <= p_now and p_now < w.ends_at and w.cancelled_at is null
  order by (w.kind = 'emergency') desc, w.starts_at, w.id
  limit 1
$$;

-- The next window to start after p_now.
create function ops.next_maintenance_window(p_now timestamptz default now()) returns ops.maintenance_windows
language sql stable
set search_path = ''
as $$
  select w.* from ops.maintenance_windows w
  where w.starts_at > p_now and w.cancelled_at is null
  order by w.starts_at, w.id
  limit 1
$$;

-- Announces emergency maintenance; tenants are told at once (the notices leave now), so it must start an hour later at
-- the earliest (RUNBOOK.md: "Emergency: communicate 1 hour in advance").
create function ops.schedule_emergency_maintenance(
  p_starts_at timestamptz,
  p_duration interval,
  p_reason text,
  p_by text,
  p_components ops.component[] default '{database,webhooks,queues}',
  p_now timestamptz default now()
) returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if p_starts_at < p_now + interval '1 hour' then
    raise exception 'emergency maintenance must be announced at least 1 hour ahead: it would start at %, the earliest is % (UTC)',
      to_char(p_starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
      to_char((p_now + interval '1 hour') at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
      using errcode = 'invalid_parameter_value';
  end if;
  if p_duration is null or p_duration <= interval '0' or p_duration > interval '12 hours' then
    raise exception 'an emergency window lasts more than 0 and at most 12 hours, not %', p_duration
      using errcode = 'invalid_parameter_value';
  end if;
  if p_by is null or length(trim(p_by)) = 0 then
    raise exception 'say who announces the maintenance' using errcode = 'invalid_parameter_value';
  end if;
  insert into ops.maintenance_windows (kind, starts_at, ends_at, components, reason, notice_at, created_by,
                                       created_at)
  values ('emergency', p_starts_at, p_starts_at + p_duration, p_components, p_reason, p_now, p_by, p_now)
  returning id into v_id;
  perform ops.queue_maintenance_notices(p_now);
  perform ops.dispatch_maintenance_notices(p_now);
  return v_id;
end
$$;

-- Tenants already told of the window hear that it is off.
create function ops.cancel_maintenance_window(p_window_id bigint, p_by text, p_now timestamptz default now())
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update ops.maintenance_windows w set cancelled_at = p_now, cancelled_by = p_by
  where w.id = p_window_id and w.cancelled_at is null;
  if not found then
    return false;
  end if;
  insert into ops.maintenance_notices (window_id, tenant_id, event, url, body, next_attempt_at, created_at)
  select n.window_id, n.tenant_id, 'cancelled', n.url,
         jsonb_build_object('type', 'maintenance.cancelled',
                            'maintenance', (n.body -> 'maintenance') || jsonb_build_object('cancelled_at', p_now)),
         p_now, p_now
  from ops.maintenance_notices n
  where n.window_id = p_window_id and n.event = 'scheduled' and n.status <> 'pending'
  on conflict (window_id, tenant_id, event) do nothing;
  -- Not told yet: nothing to take back.
  delete from ops.maintenance_notices n
  where n.window_id = p_window_id and n.event = 'scheduled' and n.status = 'pending';
  perform ops.dispatch_maintenance_notices(p_now);
  return true;
end
$$;

-- ============================================================================================
-- Advance notices to tenants
-- ============================================================================================

-- Queues the notice of every window whose notice time has come (and that has not ended) for
-- every tenant with a notification URL. Returns how many it queued.
create function ops.queue_maintenance_notices(p_now timestamptz default now()) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_queued integer;
begin
  insert into ops.maintenance_notices (window_id, tenant_id, url, body, next_attempt_at, created_at)
  select w.id, t.id, t.notification_url,
         jsonb_build_object(
           'type', 'maintenance.scheduled',
           'maintenance', jsonb_build_object(
             'id', w.id, 'kind', w.kind, 'starts_at', w.starts_at, 'ends_at', w.ends_at,
             'reason', w.reason, 'components', w.components, 'tenant_id', t.id, 'tenant_name', t.name,
             'hours_ahead', round((extract(epoch from w.starts_at - p_now) / 3600)::numeric, 1))),
         p_now, p_now
  from ops.maintenance_windows w
  cross join public.tenants t
  where w.cancelled_at is null and w.notice_at <= p_now and w.ends_at > p_now
    and t.notification_url is not null
  on conflict (window_id, tenant_id, event) do nothing;
  get diagnostics v_queued = row_count;
  return v_queued;
end
$$;

-- Like ops.dispatch_notifications: answers read from pg_net (2xx delivered, otherwise retried
-- with backoff up to max_attempts), then the due notices sent. Returns how many it sent.
create function ops.dispatch_maintenance_notices(p_now timestamptz default now()) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_row record;
  v_request bigint;
  v_sent integer := 0;
begin
  with answered as (
    select n.id, r.status_code, r.timed_out, r.error_msg,
           coalesce(r.status_code between 200 and 299 and not coalesce(r.timed_out, false), false) as ok
    from ops.maintenance_notices n
    join net._http_response r on r.id = n.net_request_id
    where n.status = 'sent'
    for update of n skip locked
  )
  update ops.maintenance_notices n
  set status = case when a.ok then 'delivered' when n.attempts >= n.max_attempts then 'failed' else 'pending' end,
      delivered_at = case when a.ok then p_now end,
      response_status = a.status_code,
      last_error = case when a.ok then null
        else coalesce(a.error_msg, case when a.timed_out then 'timed out' end, 'HTTP ' || a.status_code) end,
      next_attempt_at = p_now + least(interval '1 minute' * power(2, n.attempts - 1), interval '30 minutes')
  from answered a
  where n.id = a.id;

  for v_row in
    select n.id, n.url, n.body from ops.maintenance_notices n
    where n.status = 'pending' and n.next_attempt_at <= p_now
    order by n.id
    limit 200
    for update skip locked
  loop
    v_request := net.http_post(
      url := v_row.url,
      body := v_row.body,
      headers := jsonb_build_object('Content-Type', 'application/json', 'webhook-id', 'mnt_' || v_row.id,
                                    'webhook-timestamp', floor(extract(epoch from p_now))::bigint::text),
      timeout_milliseconds := 5000);
    update ops.maintenance_notices n
    set status = 'sent', attempts = n.attempts + 1, net_request_id = v_request, sent_at = p_now
    where n.id = v_row.id;
    v_sent := v_sent + 1;
  end loop;
  return v_sent;
end
$$;

-- ============================================================================================
-- Alerts during a window
-- ============================================================================================
create function ops.alerts_note_maintenance() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.maintenance_window_id := (select w.id from ops.maintenance_window_at(new.opened_at) w);
  return new;
end
$$;

create trigger alerts_note_maintenance before insert on ops.alerts
for each row execute function ops.alerts_note_maintenance();

-- A notification queued while a window is in force says so, and is held back unless its rule
-- is critical and about something the window does not touch.
create function ops.notifications_hold_for_maintenance() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_window ops.maintenance_windows;
  v_severity text;
  v_component text;
  v_held boolean;
begin
  select * into v_window from ops.maintenance_window_at(now());
  if v_window.id is null then
    return new;
  end if;
  select a.severity, r.component into v_severity, v_component
  from ops.alerts a join ops.alert_rules r on r.key = a.rule_key
  where a.id = new.alert_id;
  v_held := v_severity <> 'critical' or v_component = any (v_window.components::text[]);
  if new.body ? 'alert' then
    new.body := jsonb_set(new.body, '{alert,maintenance}', jsonb_build_object(
      'window_id', v_window.id, 'kind', v_window.kind, 'starts_at', v_window.starts_at,
      'ends_at', v_window.ends_at, 'reason', v_window.reason, 'held_back', v_held));
  end if;
  if v_held then
    new.status := 'held';
    new.last_error := format('held back: maintenance window %s until %s UTC', v_window.id,
                             to_char(v_window.ends_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'));
  end if;
  return new;
end
$$;

create trigger notifications_hold_for_maintenance before insert on ops.notifications
for each row execute function ops.notifications_hold_for_maintenance();

-- Held "opened" notifications of alerts still open once no window is in force: sent now.
create function ops.release_held_notifications(p_now timestamptz default now()) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_released integer;
begin
  if exists (select 1 from ops.maintenance_window_at(p_now) w where w.id is not null) then
    return 0;
  end if;
  update ops.notifications n
  set status = 'pending', next_attempt_at = least(p_now, now()),  -- due at once
      last_error = 'held back during maintenance; released when the window ended'
  from ops.alerts a
  where a.id = n.alert_id and n.status = 'held' and n.event = 'opened' and a.status = 'open';
  get diagnostics v_released = row_count;
  return v_released;
end
$$;

-- Every minute (pg_cron): scheduled windows ahead, notices due, held pages released.
create function ops.maintenance_tick(p_now timestamptz default now())
returns table (windows_created integer, notices_queued integer, notices_sent integer, pages_released integer)
language plpgsql
set search_path = ''
as $$
declare
  v_created integer := ops.ensure_scheduled_windows(p_now);
  v_queued integer := ops.queue_maintenance_notices(p_now);
  v_sent integer := ops.dispatch_maintenance_notices(p_now);
  v_released integer := ops.release_held_notifications(p_now);
begin
  return query select v_created, v_queued, v_sent, v_released;
end
$$;

-- ============================================================================================
-- Deployments
-- ============================================================================================

-- Starts a deployment record: inside a window, or forced with who and why. Raises otherwise,
-- naming the next window.
create function ops.begin_deployment(
  p_migrations text[],
  p_force boolean default false,
  p_by text default null,
  p_reason text default null,
  p_now timestamptz default now()
) returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_window ops.maintenance_windows;
  v_next ops.maintenance_windows;
  v_id bigint;
begin
  perform ops.ensure_scheduled_windows(p_now);
  select * into v_window from ops.maintenance_window_at(p_now);
  if v_window.id is null and not p_force then
    select * into v_next from ops.next_maintenance_window(p_now);
    raise exception 'outside a maintenance window: migrations run only inside one (next: % to % UTC, %)',
      coalesce(to_char(v_next.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), 'none scheduled'),
      coalesce(to_char(v_next.ends_at at time zone 'UTC', 'HH24:MI'), '-'), coalesce(v_next.kind, '-')
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'to deploy anyway, force it and say who and why';
  end if;
  if p_force and (coalesce(trim(p_by), '') = '' or coalesce(trim(p_reason), '') = '') then
    raise exception 'a forced deployment needs who forces it and why' using errcode = 'invalid_parameter_value';
  end if;
  insert into ops.deployments (started_at, migrations, window_id, forced, forced_by, force_reason)
  values (p_now, p_migrations, v_window.id, v_window.id is null,
          case when v_window.id is null then p_by end, case when v_window.id is null then p_reason end)
  returning id into v_id;
  return v_id;
end
$$;

create function ops.finish_deployment(p_id bigint, p_succeeded boolean, p_error text default null)
returns void
language sql
set search_path = ''
as $$
  update ops.deployments d
  set status = case when p_succeeded then 'succeeded' else 'failed' end, finished_at = now(), error = p_error
  where d.id = p_id
$$;

-- ============================================================================================
-- Privileges, RLS, schedules
-- ============================================================================================
alter table ops.maintenance_schedule enable row level security;
alter table ops.maintenance_windows enable row level security;
alter table ops.maintenance_notices enable row level security;
alter table ops.deployments enable row level security;

revoke all on ops.maintenance_schedule, ops.maintenance_windows, ops.maintenance_notices, ops.deployments
  from public, anon, authenticated;
grant all on ops.maintenance_schedule, ops.maintenance_windows, ops.maintenance_notices, ops.deployments
  to service_role;

revoke all on function ops.ensure_scheduled_windows(timestamptz, interval) from public, anon, authenticated;
revoke all on function ops.maintenance_window_at(timestamptz) from public, anon, authenticated;
revoke all on function ops.next_maintenance_window(timestamptz) from public, anon, authenticated;
revoke all on function ops.schedule_emergency_maintenance(timestamptz, interval, text, text, ops.component[], timestamptz)
  from public, anon, authenticated;
revoke all on function ops.cancel_maintenance_window(bigint, text, timestamptz) from public, anon, authenticated;
revoke all on function ops.queue_maintenance_notices(timestamptz) from public, anon, authenticated;
revoke all on function ops.dispatch_maintenance_notices(timestamptz) from public, anon, authenticated;
revoke all on function ops.alerts_note_maintenance() from public, anon, authenticated;
revoke all on function ops.notifications_hold_for_maintenance() from public, anon, authenticated;
revoke all on function ops.release_held_notifications(timestamptz) from public, anon, authenticated;
revoke all on function ops.maintenance_tick(timestamptz) from public, anon, authenticated;
revoke all on function ops.begin_deployment(text[], boolean, text, text, timestamptz) from public, anon, authenticated;
revoke all on function ops.finish_deployment(bigint, boolean, text) from public, anon, authenticated;
grant execute on function ops.ensure_scheduled_windows(timestamptz, interval) to service_role;
grant execute on function ops.maintenance_window_at(timestamptz) to service_role;
grant execute on function ops.next_maintenance_window(timestamptz) to service_role;
grant execute on function ops.schedule_emergency_maintenance(timestamptz, interval, text, text, ops.component[], timestamptz)
  to service_role;
grant execute on function ops.cancel_maintenance_window(bigint, text, timestamptz) to service_role;
grant execute on function ops.queue_maintenance_notices(timestamptz) to service_role;
grant execute on function ops.dispatch_maintenance_notices(timestamptz) to service_role;
grant execute on function ops.release_held_notifications(timestamptz) to service_role;
grant execute on function ops.maintenance_tick(timestamptz) to service_role;
grant execute on function ops.begin_deployment(text[], boolean, text, text, timestamptz) to service_role;
grant execute on function ops.finish_deployment(bigint, boolean, text) to service_role;

select ops.ensure_scheduled_windows();
select cron.schedule('ops-maintenance', '* * * * *', 'select ops.maintenance_tick()');

-- ============================================================================================
-- Notices obey the outbound URL policy (20261202002000), as alert notifications do: a URL saved
-- while local URLs were allowed is refused when the notice is queued, never posted.
-- ============================================================================================
create function ops.refuse_disallowed_maintenance_notice_urls() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_reason text := private.url_refusal(new.url, private.allow_local_urls());
begin
  if v_reason is not null then
    new.status := 'failed';
    new.last_error := 'refused: the notification URL is not allowed: ' || v_reason;
  end if;
  return new;
end
$$;

create trigger maintenance_notices_refuse_disallowed_urls
before insert on ops.maintenance_notices
for each row execute function ops.refuse_disallowed_maintenance_notice_urls();
