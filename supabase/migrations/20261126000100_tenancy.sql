-- Tenancy: hotels (tenants), their properties, and who may act for them.
-- Helpers that RLS policies call live in `private`, a schema PostgREST does not expose.

-- ============================================================================================
-- Schemas and defaults
-- ============================================================================================
create extension if not exists pgcrypto with schema extensions;

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Functions in public are not callable by the API roles unless granted one by one below.
-- (PUBLIC's execute right is a global default, so it is revoked globally.)
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;

-- ============================================================================================
-- Types
-- ============================================================================================
create type public.member_role as enum ('owner', 'admin', 'staff');

-- ============================================================================================
-- Shared trigger functions
-- ============================================================================================
create function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- A row never moves to another tenant; RLS alone would allow it for someone in both.
create function private.forbid_tenant_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.tenant_id is distinct from old.tenant_id then
    raise exception 'tenant_id of % cannot change', tg_table_name
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;

create function private.is_valid_timezone(p_timezone text) returns boolean
language plpgsql stable
set search_path = ''
as $$
begin
  -- IANA names only (Area/Location or UTC); abbreviations like EST and POSIX offsets are refused.
  if p_timezone is null or p_timezone !~ '^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$' then
    return false;
  end if;
  perform now() at time zone p_timezone;
  return true;
exception
  when invalid_parameter_value then
    return false;
end
$$;

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 200),
  -- Routes public webhooks to the tenant; unguessable, but not a credential (signatures are).
  webhook_key text not null unique
    default translate(encode(extensions.gen_random_bytes(18), 'base64'), '+/', '-_')
    check (webhook_key ~ '^[A-Za-z0-9_-]{16,64}$'),
  default_language text not null default 'en' check (default_language ~ '^[a-z]{2}$'),
  -- Where tenant-facing incident notices go (WhatsApp disconnected, PMS unreachable).
  notification_url text check (notification_url ~ '^https?://'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.member_role not null default 'staff',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);

create index tenant_members_user_id_idx on public.tenant_members (user_id);

create table public.properties (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 200),
  timezone text not null check (private.is_valid_timezone(timezone)),
  pms_property_id text,
  check_in_time time not null default '15:00',
  check_out_time time not null default '11:00',
  -- No guest messages between quiet_hours_start and quiet_hours_end, local time.
  quiet_hours_start time not null default '21:00',
  quiet_hours_end time not null default '08:00',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  unique (tenant_id, pms_property_id)
);

-- ============================================================================================
-- Triggers
-- ============================================================================================
create trigger tenants_set_updated_at before update on public.tenants
for each row execute function private.set_updated_at();

create trigger tenant_members_set_updated_at before update on public.tenant_members
for each row execute function private.set_updated_at();

create trigger tenant_members_forbid_tenant_change before update on public.tenant_members
for each row execute function private.forbid_tenant_change();

create trigger properties_set_updated_at before update on public.properties
for each row execute function private.set_updated_at();

create trigger properties_forbid_tenant_change before update on public.properties
for each row execute function private.forbid_tenant_change();

-- A tenant always keeps at least one owner.
create function private.keep_an_owner() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.role = 'owner'
    and (tg_op = 'DELETE' or new.role <> 'owner')
    and exists (select 1 from public.tenants t where t.id = old.tenant_id)
    and not exists (
      select 1 from public.tenant_members m
      where m.tenant_id = old.tenant_id and m.role = 'owner' and m.user_id <> old.user_id
    )
  then
    raise exception 'a tenant must keep at least one owner' using errcode = 'check_violation';
  end if;
  return coalesce(new, old);
end
$$;

create trigger tenant_members_keep_an_owner before update or delete on public.tenant_members
for each row execute function private.keep_an_owner();

-- ============================================================================================
-- Helper functions for policies and RPCs
-- ============================================================================================

-- Tenants the current user belongs to, optionally only with one of the given roles.
-- Security definer so policies on tenant_members do not recurse.
create function private.tenant_ids_for(p_roles public.member_role[] default null)
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.tenant_id
  from public.tenant_members m
  where m.user_id = (select auth.uid())
    and (p_roles is null or m.role = any (p_roles))
$$;

-- True for the trusted back end (service_role through the API, or a direct database login such
-- as the worker's) and false for end users. Security definer functions do not change the
-- `role` setting, so it still shows who called.
create function private.is_service_caller() returns boolean
language sql stable
set search_path = ''
as $$
  select current_setting('role') = 'service_role'
    or (current_setting('role') = 'none'
        and session_user::text not in ('anon', 'authenticated', 'authenticator'))
$$;

-- Raises unless the caller is the back end or a member of the tenant with one of the roles.
create function private.assert_tenant_role(p_tenant_id uuid, p_roles public.member_role[])
returns void
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if private.is_service_caller() then
    return;
  end if;
  if (select auth.uid()) is null
    or not exists (
      select 1 from public.tenant_members m
      where m.tenant_id = p_tenant_id
        and m.user_id = (select auth.uid())
        and m.role = any (p_roles)
    )
  then
    raise exception 'permission denied for tenant %', p_tenant_id
      using errcode = 'insufficient_privilege';
  end if;
end
$$;

revoke all on function private.tenant_ids_for(public.member_role[]) from public;
revoke all on function private.is_service_caller() from public;
revoke all on function private.assert_tenant_role(uuid, public.member_role[]) from public;
grant execute on function private.tenant_ids_for(public.member_role[]) to authenticated, service_role;
grant execute on function private.is_service_caller() to authenticated, service_role;
grant execute on function private.assert_tenant_role(uuid, public.member_role[]) to authenticated, service_role;
grant execute on function private.is_valid_timezone(text) to authenticated, service_role;

-- ============================================================================================
-- Public API
-- ============================================================================================

-- A signed-in user creates a hotel group and becomes its owner.
create function public.create_tenant(p_name text, p_default_language text default 'en')
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_tenant uuid;
begin
  if v_user is null then
    raise exception 'sign in to create a tenant' using errcode = 'insufficient_privilege';
  end if;
  insert into public.tenants (name, default_language)
  values (p_name, p_default_language)
  returning id into v_tenant;
  insert into public.tenant_members (tenant_id, user_id, role) values (v_tenant, v_user, 'owner');
  return v_tenant;
end
$$;

revoke all on function public.create_tenant(text, text) from public, anon;
grant execute on function public.create_tenant(text, text) to authenticated, service_role;

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.tenants enable row level security;
alter table public.tenant_members enable row level security;
alter table public.properties enable row level security;

revoke all on public.tenants, public.tenant_members, public.properties from anon, authenticated;
grant select, update (name, default_language, notification_url) on public.tenants to authenticated;
grant select, insert, update (role), delete on public.tenant_members to authenticated;
grant select, insert, update, delete on public.properties to authenticated;
grant all on public.tenants, public.tenant_members, public.properties to service_role;

create policy "Tenants are visible to their members"
on public.tenants for select to authenticated
using (id in (select private.tenant_ids_for()));

create policy "Tenants are updated by their owners and admins"
on public.tenants for update to authenticated
using (id in (select private.tenant_ids_for('{owner,admin}')))
with check (id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Members are visible to members of the same tenant"
on public.tenant_members for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Members are added by the tenant's owners"
on public.tenant_members for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner}')));

create policy "Members are changed by the tenant's owners"
on public.tenant_members for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner}')))
with check (tenant_id in (select private.tenant_ids_for('{owner}')));

create policy "Members are removed by the tenant's owners"
on public.tenant_members for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner}')));

create policy "Properties are visible to members of their tenant"
on public.properties for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Properties are added by the tenant's owners and admins"
on public.properties for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Properties are changed by the tenant's owners and admins"
on public.properties for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')))
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Properties are removed by the tenant's owners and admins"
on public.properties for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));
