-- Guests and reservations, and the one way the system writes a reservation from PMS data:
-- upsert_reservation_v1, which never lets an older PMS version overwrite a newer one.

-- ============================================================================================
-- Types
-- ============================================================================================
create type public.reservation_status as enum ('confirmed', 'checked_in', 'checked_out', 'cancelled', 'no_show');

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.guests (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  full_name text check (length(full_name) <= 300),
  phone_e164 text check (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  email text check (length(email) <= 320),
  language text check (language ~ '^[a-z]{2}$'),
  whatsapp_opt_in boolean not null default true,
  opted_in_at timestamptz,
  opted_out_at timestamptz,
  opt_out_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  unique (tenant_id, phone_e164),
  -- Opted out means no WhatsApp opt-in, and the time it happened is kept.
  check (whatsapp_opt_in or opted_out_at is not null)
);

create table public.reservations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  property_id uuid not null,
  guest_id uuid,
  provider public.pms_provider not null,
  pms_reservation_id text not null check (length(pms_reservation_id) between 1 and 200),
  status public.reservation_status not null,
  arrival_date date not null,
  departure_date date not null,
  adults integer check (adults >= 0),
  children integer check (children >= 0),
  room_label text,
  -- The PMS's own last-modified time of the data stored here; older data never replaces it.
  pms_updated_at timestamptz not null,
  canonical jsonb not null default '{}'::jsonb,
  last_request_id text,
  last_job_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  unique (tenant_id, provider, pms_reservation_id),
  foreign key (tenant_id, property_id) references public.properties (tenant_id, id) on delete cascade,
  foreign key (tenant_id, guest_id) references public.guests (tenant_id, id),
  check (departure_date >= arrival_date)
);

create index reservations_guest_idx on public.reservations (tenant_id, guest_id);
create index reservations_property_arrival_idx on public.reservations (property_id, arrival_date);

-- ============================================================================================
-- Triggers
-- ============================================================================================
create trigger guests_set_updated_at before update on public.guests
for each row execute function private.set_updated_at();
create trigger guests_forbid_tenant_change before update on public.guests
for each row execute function private.forbid_tenant_change();
create trigger reservations_set_updated_at before update on public.reservations
for each row execute function private.set_updated_at();
create trigger reservations_forbid_tenant_change before update on public.reservations
for each row execute function private.forbid_tenant_change();

-- Opting out and back in is recorded with its time, whoever changes the flag.
create function private.track_opt_in() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.whatsapp_opt_in is distinct from old.whatsapp_opt_in then
    if new.whatsapp_opt_in then
      new.opted_in_at := now();
      new.opted_out_at := null;
      new.opt_out_reason := null;
    else
      new.opted_out_at := coalesce(new.opted_out_at, now());
    end if;
  end if;
  return new;
end
$$;

create trigger guests_track_opt_in before insert or update on public.guests
for each row execute function private.track_opt_in();

-- ============================================================================================
-- Service API
-- ============================================================================================

-- Writes a canonical reservation (shared/schemas/canonical-reservation.schema.json).
-- Outcome: created, updated, unchanged (same version again) or stale (older than stored).
create function public.upsert_reservation_v1(
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
  end if;

  if v_existing.id is null then
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
    returning id into v_existing.id;
    return query select v_existing.id, 'created'::text;
    return;
  end if;

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

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.guests enable row level security;
alter table public.reservations enable row level security;

revoke all on public.guests, public.reservations from anon, authenticated;
grant all on public.guests, public.reservations to service_role;
-- Staff fix guest contact data and opt-outs; reservations come from the PMS and admins.
grant select, insert, delete,
      update (full_name, phone_e164, email, language, whatsapp_opt_in, opt_out_reason)
  on public.guests to authenticated;
grant select, insert, update, delete on public.reservations to authenticated;

create policy "Guests are visible to members of their tenant"
on public.guests for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Guests are added by members of their tenant"
on public.guests for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for()));

create policy "Guests are corrected by members of their tenant"
on public.guests for update to authenticated
using (tenant_id in (select private.tenant_ids_for()))
with check (tenant_id in (select private.tenant_ids_for()));

create policy "Guests are removed by the tenant's owners and admins"
on public.guests for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Reservations are visible to members of their tenant"
on public.reservations for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Reservations are added by the tenant's owners and admins"
on public.reservations for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Reservations are changed by the tenant's owners and admins"
on public.reservations for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')))
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Reservations are removed by the tenant's owners and admins"
on public.reservations for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));
