-- Tracing (issue 17): a sync asked for from the dashboard carries a request id, as a webhook
-- does; a reservation and a sync job can be followed like a request (`ops trace <id>`).

-- "Sync now" (owners and admins): the request id is the caller's X-Request-Id when PostgREST
-- passes one (request.headers), else a new one, so the job, the reservations it changes, the
-- messages planned from them and the worker's log lines (requestId) all carry it.
create or replace function public.request_sync(p_pms_configuration_id uuid,
                                                p_kind public.sync_kind default 'incremental')
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
  v_request_id text;
  v_job uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  -- One answer for a missing configuration and another tenant's (20261202005000).
  perform private.assert_row_access(v_tenant, '{owner,admin}', 'PMS configuration', p_pms_configuration_id::text);
  if p_kind = 'reservation' then
    raise exception 'a manual sync is full or incremental' using errcode = 'invalid_parameter_value';
  end if;
  v_request_id := left(nullif(trim(
    (nullif(current_setting('request.headers', true), '')::jsonb) ->> 'x-request-id'), ''), 200);
  v_request_id := coalesce(v_request_id, 'sync-' || left(replace(gen_random_uuid()::text, '-', ''), 16));
  v_job := private.enqueue_sync(p_pms_configuration_id, p_kind, 'manual', null, (select auth.uid()), v_request_id);
  -- Joined a waiting job that nobody's request made (e.g. the first sync of a new connection):
  -- it is this request's now, so it can be followed.
  update public.sync_jobs j set request_id = v_request_id
  where j.id = v_job and j.request_id is null and j.status = 'pending';
  return v_job;
end
$$;

-- One reservation's story: every request that created or changed it or its messages (webhooks,
-- syncs), with those requests' events and jobs, the reservation's and its messages' changes,
-- and how they stand now. request_id says which request each step belongs to.
create function ops.trace_reservation(p_reservation_id uuid)
returns table (at timestamptz, entity text, entity_id text, tenant_id uuid, change text, detail jsonb,
               request_id text)
language sql stable
set search_path = ''
as $$
  with messages as (
    select m.id::text as id from public.message_logs m where m.reservation_id = p_reservation_id
  ),
  requests as (
    -- History outlives deleted rows (30 days): only this tenant's rows can be this reservation's.
    select h.request_id from ops.state_history h
    where h.tenant_id = (select r.tenant_id from public.reservations r where r.id = p_reservation_id)
      and ((h.entity = 'reservation' and h.entity_id = p_reservation_id::text)
           or (h.entity = 'message' and h.entity_id in (select x.id from messages x)))
    union
    select r.last_request_id from public.reservations r where r.id = p_reservation_id
    union
    select m.request_id from public.message_logs m where m.reservation_id = p_reservation_id
  ),
  steps as (
    select t.at, t.entity, t.entity_id, t.tenant_id, t.change, t.detail, q.request_id, 0 as rank
    from requests q
    cross join lateral ops.trace_request(q.request_id) t
    where q.request_id is not null
      and ((t.entity = 'reservation' and t.entity_id = p_reservation_id::text)
           or (t.entity = 'message' and t.entity_id in (select x.id from messages x))
           or t.entity in ('inbound_event', 'sync_job'))
    union all
    select now(), 'reservation', r.id::text, r.tenant_id, 'now ' || r.status::text,
           jsonb_build_object('pms_reservation_id', r.pms_reservation_id, 'arrival_date', r.arrival_date,
                              'departure_date', r.departure_date, 'updated_at', r.updated_at),
           r.last_request_id, 1
    from public.reservations r where r.id = p_reservation_id
    union all
    select now(), 'message', m.id::text, m.tenant_id, 'now ' || m.status::text,
           jsonb_strip_nulls(jsonb_build_object('template', m.template_key, 'sent_at', m.sent_at,
                                                'error', m.last_error)),
           m.request_id, 1
    from public.message_logs m where m.reservation_id = p_reservation_id
  )
  select s.at, s.entity, s.entity_id, s.tenant_id, s.change, s.detail, s.request_id
  from steps s
  order by s.at, s.rank, s.entity, s.entity_id
$$;

-- One sync job's story: its request's (when it has one), and its own timeline from its row.
create function ops.trace_job(p_job_id uuid)
returns table (at timestamptz, entity text, entity_id text, tenant_id uuid, change text, detail jsonb,
               request_id text)
language sql stable
set search_path = ''
as $$
  with job as (select j.* from public.sync_jobs j where j.id = p_job_id),
  steps as (
    -- Its request's story (another job of the same request, e.g. `ops sync` of two PMSs, left out).
    select t.at, t.entity, t.entity_id, t.tenant_id, t.change, t.detail, j.request_id, 0 as rank
    from job j
    cross join lateral ops.trace_request(j.request_id) t
    where j.request_id is not null and (t.entity <> 'sync_job' or t.entity_id = p_job_id::text)
    union all
    -- A job without a request id (e.g. scheduled) still has its own row to tell.
    select j.requested_at, 'sync_job', j.id::text, j.tenant_id,
           'requested ' || j.kind::text || ' sync (' || j.trigger::text || ')', '{}'::jsonb, null, 0
    from job j where j.request_id is null
    union all
    select j.started_at, 'sync_job', j.id::text, j.tenant_id, 'started (attempt ' || j.attempts || ')', '{}'::jsonb,
           null, 1
    from job j where j.request_id is null and j.started_at is not null
    union all
    -- What it did, once finished.
    select j.finished_at, 'sync_job', j.id::text, j.tenant_id, 'result: ' || j.status::text,
           jsonb_strip_nulls(jsonb_build_object(
             'pages', j.pages, 'created', j.created_count, 'updated', j.updated_count,
             'unchanged', j.unchanged_count, 'failed', j.failed_count, 'error', j.error)),
           j.request_id, 3
    from job j where j.finished_at is not null
  )
  select s.at, s.entity, s.entity_id, s.tenant_id, s.change, s.detail, s.request_id
  from steps s
  order by s.at, s.rank, s.entity, s.entity_id
$$;

revoke all on function ops.trace_reservation(uuid) from public, anon, authenticated;
revoke all on function ops.trace_job(uuid) from public, anon, authenticated;
grant execute on function ops.trace_reservation(uuid) to service_role;
grant execute on function ops.trace_job(uuid) to service_role;
