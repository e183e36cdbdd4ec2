-- Who may create a tenant: only someone the platform invited. Signing up used to be enough to
-- become the owner of a working WhatsApp sender; now the platform operator first invites the
-- owner's e-mail address (private.tenant_invitations, back end only), and create_tenant turns
-- one open invitation for the caller's confirmed e-mail address into one tenant.

create table private.tenant_invitations (
  id bigint generated always as identity primary key,
  -- Compared with auth.users.email, case-insensitively.
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 254),
  invited_by text not null default current_user,
  note text check (length(note) <= 500),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '14 days',
  used_at timestamptz,
  used_by uuid references auth.users (id) on delete set null,
  tenant_id uuid references public.tenants (id) on delete set null
);

create index tenant_invitations_open_idx on private.tenant_invitations (lower(email)) where used_at is null;

alter table private.tenant_invitations enable row level security;
revoke all on private.tenant_invitations from public, anon, authenticated;
grant select, insert, update, delete on private.tenant_invitations to service_role;

-- The platform's way to invite (service role or a database login): returns the invitation id.
create function private.invite_tenant_owner(p_email text, p_valid_for interval default '14 days', p_note text default null)
returns bigint
language sql
set search_path = ''
as $$
  insert into private.tenant_invitations (email, expires_at, note)
  values (btrim(p_email), now() + p_valid_for, p_note)
  returning id
$$;

revoke all on function private.invite_tenant_owner(text, interval, text) from public;
grant execute on function private.invite_tenant_owner(text, interval, text) to service_role;

-- A signed-in user with an open invitation for their confirmed e-mail address creates a hotel
-- group and becomes its owner; the invitation is used up. (The platform itself can also insert
-- tenants and their owners directly, as the service role.)
create or replace function public.create_tenant(p_name text, p_default_language text default 'en')
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_invitation bigint;
  v_tenant uuid;
begin
  if v_user is null then
    raise exception 'sign in to create a tenant' using errcode = 'insufficient_privilege';
  end if;
  select i.id into v_invitation
  from private.tenant_invitations i
  join auth.users u on lower(u.email) = lower(i.email)
  where u.id = v_user
    and u.email_confirmed_at is not null
    and i.used_at is null
    and i.expires_at > now()
  order by i.id
  limit 1
  for update of i skip locked;
  if v_invitation is null then
    raise exception 'creating a hotel group needs an invitation from the platform'
      using errcode = 'insufficient_privilege',
            hint = 'ask the platform operator to invite your confirmed e-mail address';
  end if;
  insert into public.tenants (name, default_language)
  values (p_name, p_default_language)
  returning id into v_tenant;
  insert into public.tenant_members (tenant_id, user_id, role) values (v_tenant, v_user, 'owner');
  update private.tenant_invitations
  set used_at = now(), used_by = v_user, tenant_id = v_tenant
  where id = v_invitation;
  return v_tenant;
end
$$;
