-- Two writers of a reservation that does not exist yet no longer collide.
--
-- upsert_reservation_v1 locked the reservation with `select ... for update`, which locks nothing
-- while the row does not exist: two webhooks for one new booking ("created", then "updated"
-- moments later) both inserted, and the second failed on the unique key. The worker took that
-- for bad data and dead-lettered the event, so the update was lost.
--
-- Now every upsert of one (tenant, provider, PMS id) first takes a transaction-level advisory
-- lock on that key, so they run one after another even before the row exists (a hash collision
-- only makes two reservations wait for each other). Writers that do not go through this function
-- (an admin's insert) are still covered: the insert is `on conflict do nothing`, and losing that
-- race goes back to the locked read and updates the row the other writer committed. The lock is
-- taken before the guest is touched, so the order stays reservation, then guest.
--
-- v2 and upsert_reservations_v1 (PMS sync) call v1, so the replacement fixes them too. Same
-- signature, so workers of the previous version keep working during a deploy.

create or replace function public.upsert_reservation_v1(
  p_tenant_id uuid,
  p_reservation jsonb,
  p_request_id text default null,
  p_job_id uuid default null
) returns table (reservation_id uuid, outcome text)
language plpgsql
set search_path = ''
as $$
declare
  v_guest jsonb := coalesce(p_reservation -> 'guest', '{}'::jsonb);
  v_phone text := nullif(v_guest ->> 'phone', '');
  v_email text := nullif(lower(v_guest ->> 'email'), '');
  v_language text := nullif(lower(left(v_guest ->> 'language', 2)), '');
  v_provider public.pms_provider := (p_reservation ->> 'provider')::public.pms_provider;
  v_pms_id text := p_reservation ->> 'pms_reservation_id';
  v_updated_at timestamptz := (p_reservation ->> 'pms_updated_at')::timestamptz;
  v_property uuid;
  v_guest_id uuid;
  v_new_guest boolean;
  v_created uuid;
  v_existing public.reservations;
begin
  if v_pms_id is null or v_updated_at is null then
    raise exception 'reservation needs pms_reservation_id and pms_updated_at' using errcode = 'check_violation';
  end if;

  select p.id into v_property
  from public.properties p
  where p.tenant_id = p_tenant_id
    and (p.pms_property_id = p_reservation ->> 'pms_property_id'
         or (p_reservation ->> 'pms_property_id' is null
             and (select count(*) from public.properties q where q.tenant_id = p_tenant_id) = 1));
  if v_property is null then
    raise exception 'unknown property % for tenant %', p_reservation ->> 'pms_property_id', p_tenant_id
      using errcode = 'no_data_found';
  end if;

  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended(format('reservation:%s:%s:%s', p_tenant_id, v_provider, v_pms_id), 0));

  loop
    select * into v_existing
    from public.reservations r
    where r.tenant_id = p_tenant_id and r.provider = v_provider and r.pms_reservation_id = v_pms_id
    for update;

    if v_existing.id is not null and v_existing.pms_updated_at > v_updated_at then
      return query select v_existing.id, 'stale'::text;
      return;
    end if;
    if v_existing.id is not null and v_existing.pms_updated_at = v_updated_at then
      return query select v_existing.id, 'unchanged'::text;
      return;
    end if;

    -- The guest: the same phone number within a tenant is the same person.
    v_new_guest := false;
    if v_phone is not null then
      insert into public.guests as g (tenant_id, full_name, phone_e164, email, language)
      values (p_tenant_id, v_guest ->> 'full_name', v_phone, v_email, v_language)
      on conflict (tenant_id, phone_e164) do update
        set full_name = coalesce(excluded.full_name, g.full_name),
            email = coalesce(excluded.email, g.email),
            language = coalesce(excluded.language, g.language)
      returning g.id into v_guest_id;
    elsif v_existing.guest_id is not null then
      v_guest_id := v_existing.guest_id;
      update public.guests g
      set full_name = coalesce(v_guest ->> 'full_name', g.full_name),
          email = coalesce(v_email, g.email),
          language = coalesce(v_language, g.language)
      where g.id = v_guest_id;
    else
      insert into public.guests (tenant_id, full_name, email, language)
      values (p_tenant_id, v_guest ->> 'full_name', v_email, v_language)
      returning id into v_guest_id;
      v_new_guest := true;
    end if;

    exit when v_existing.id is not null;

    insert into public.reservations (
      tenant_id, property_id, guest_id, provider, pms_reservation_id, status, arrival_date,
      departure_date, adults, children, room_label, pms_updated_at, canonical, last_request_id,
      last_job_id)
    values (
      p_tenant_id, v_property, v_guest_id, v_provider, v_pms_id,
      (p_reservation ->> 'status')::public.reservation_status,
      (p_reservation ->> 'arrival_date')::date, (p_reservation ->> 'departure_date')::date,
      (p_reservation ->> 'adults')::integer, (p_reservation ->> 'children')::integer,
      p_reservation ->> 'room', v_updated_at, p_reservation, p_request_id, p_job_id)
    on conflict (tenant_id, provider, pms_reservation_id) do nothing
    returning id into v_created;
    if v_created is not null then
      return query select v_created, 'created'::text;
      return;
    end if;
    -- Another writer created it meanwhile (and has committed: the insert waited for it). The
    -- phone-less guest made for our insert belongs to nobody; then read the row again, locked.
    if v_new_guest then
      delete from public.guests g where g.id = v_guest_id;
    end if;
  end loop;

  update public.reservations r
  set property_id = v_property,
      guest_id = v_guest_id,
      status = (p_reservation ->> 'status')::public.reservation_status,
      arrival_date = (p_reservation ->> 'arrival_date')::date,
      departure_date = (p_reservation ->> 'departure_date')::date,
      adults = (p_reservation ->> 'adults')::integer,
      children = (p_reservation ->> 'children')::integer,
      room_label = p_reservation ->> 'room',
      pms_updated_at = v_updated_at,
      canonical = p_reservation,
      last_request_id = coalesce(p_request_id, r.last_request_id),
      last_job_id = coalesce(p_job_id, r.last_job_id)
  where r.id = v_existing.id;
  return query select v_existing.id, 'updated'::text;
end
$$;

revoke all on function public.upsert_reservation_v1(uuid, jsonb, text, uuid) from public, anon, authenticated;
grant execute on function public.upsert_reservation_v1(uuid, jsonb, text, uuid) to service_role;

-- Asking for a sync while the pending twin is being claimed: `on conflict do nothing` found the
-- twin, but by the time it was read back a worker had started it, and the caller got null. Now
-- the insert is tried again (there is no pending twin any more, so it succeeds).
create or replace function private.enqueue_sync(
  p_pms_configuration_id uuid,
  p_kind public.sync_kind,
  p_trigger public.sync_trigger,
  p_pms_reservation_id text,
  p_requested_by uuid,
  p_request_id text
) returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_tenant uuid;
  v_job uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  if v_tenant is null then
    raise exception 'PMS configuration % not found', p_pms_configuration_id using errcode = 'no_data_found';
  end if;
  loop
    insert into public.sync_jobs (tenant_id, pms_configuration_id, kind, trigger, pms_reservation_id,
                                  requested_by, request_id)
    values (v_tenant, p_pms_configuration_id, p_kind, p_trigger, p_pms_reservation_id, p_requested_by,
            p_request_id)
    on conflict (pms_configuration_id, kind, coalesce(pms_reservation_id, '')) where status = 'pending'
    do nothing
    returning id into v_job;
    if v_job is null then
      select j.id into v_job from public.sync_jobs j
      where j.pms_configuration_id = p_pms_configuration_id and j.kind = p_kind
        and coalesce(j.pms_reservation_id, '') = coalesce(p_pms_reservation_id, '')
        and j.status = 'pending';
    end if;
    exit when v_job is not null;
  end loop;
  return v_job;
end
$$;
