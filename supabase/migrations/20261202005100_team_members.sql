-- The team: invite a member by e-mail, accept the invitation, change a role, remove a member.
--
-- Rules (one place: private.may_manage_member):
--   * owners invite, promote, demote and remove anyone, owners included;
--   * admins manage staff and admins, but never touch an owner and never make anyone owner;
--   * staff manage nobody;
--   * anyone may leave (remove themselves);
--   * a tenant always keeps an owner (the existing trigger private.keep_an_owner).
-- The invitation e-mail itself is Supabase Auth's (its invite endpoint, called by the dashboard's
-- edge function or the admin API). Here the invitation is stored with the SHA-256 of a random
-- token and an expiry; the token is returned once, to be carried in the e-mail's link, and the
-- invited user, signed in with that e-mail address, accepts with it.

create table public.tenant_invitations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  email text not null check (email = lower(btrim(email)) and email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 320),
  role public.member_role not null default 'staff',
  token_hash bytea not null unique check (length(token_hash) = 32),
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  check (expires_at > created_at),
  check (accepted_at is null or revoked_at is null)
);

-- At most one open invitation per address and tenant: inviting again replaces it.
create unique index tenant_invitations_open_idx on public.tenant_invitations (tenant_id, email)
where accepted_at is null and revoked_at is null;

alter table public.tenant_invitations enable row level security;
revoke all on public.tenant_invitations from anon, authenticated;
grant all on public.tenant_invitations to service_role;
-- The token hash is not secret-equivalent (SHA-256 of 32 random bytes) but nobody needs it.
grant select (id, tenant_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at)
  on public.tenant_invitations to authenticated;

create policy "Invitations are visible to the tenant's owners and admins"
on public.tenant_invitations for select to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

-- Whether the current user may give p_target_user (now p_current_role, null: not a member yet)
-- the role p_new_role (null: remove) in p_tenant_id.
create function private.may_manage_member(
  p_tenant_id uuid,
  p_target_user uuid,
  p_current_role public.member_role,
  p_new_role public.member_role
) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_mine public.member_role;
begin
  if private.is_service_caller() then
    return true;
  end if;
  select m.role into v_mine from public.tenant_members m
  where m.tenant_id = p_tenant_id and m.user_id = (select auth.uid());
  if v_mine is null then
    return false;
  end if;
  if p_target_user = (select auth.uid()) and p_new_role is null then
    return true;  -- leaving
  end if;
  return case v_mine
    when 'owner' then true
    when 'admin' then coalesce(p_current_role <> 'owner', true) and coalesce(p_new_role <> 'owner', true)
    else false
  end;
end
$$;

revoke all on function private.may_manage_member(uuid, uuid, public.member_role, public.member_role) from public;
grant execute on function private.may_manage_member(uuid, uuid, public.member_role, public.member_role)
  to authenticated, service_role;

-- Invites p_email into the tenant with p_role. Returns the invitation and its token (only
-- here, once). An open invitation of the same address is replaced.
create function public.invite_member(
  p_tenant_id uuid,
  p_email text,
  p_role public.member_role default 'staff',
  p_valid_for interval default '7 days'
) returns table (invitation_id uuid, token text, expires_at timestamptz)
language plpgsql security definer
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_token text := translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  if not private.may_manage_member(p_tenant_id, null, null, p_role) then
    raise exception 'only an owner can invite an owner' using errcode = 'insufficient_privilege';
  end if;
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+$' or length(v_email) > 320 then
    raise exception 'not an e-mail address: %', p_email using errcode = 'invalid_parameter_value';
  end if;
  if p_valid_for is null or p_valid_for < interval '1 hour' or p_valid_for > interval '30 days' then
    raise exception 'an invitation is valid for 1 hour to 30 days' using errcode = 'invalid_parameter_value';
  end if;
  if exists (
    select 1 from public.tenant_members m join auth.users u on u.id = m.user_id
    where m.tenant_id = p_tenant_id and lower(u.email) = v_email
  ) then
    raise exception '% is already a member', v_email using errcode = 'unique_violation';
  end if;
  update public.tenant_invitations i set revoked_at = now()
  where i.tenant_id = p_tenant_id and i.email = v_email and i.accepted_at is null and i.revoked_at is null;
  return query
  insert into public.tenant_invitations as i (tenant_id, email, role, token_hash, invited_by, expires_at)
  values (p_tenant_id, v_email, p_role, extensions.digest(v_token, 'sha256'), (select auth.uid()), now() + p_valid_for)
  returning i.id, v_token, i.expires_at;
end
$$;

-- Withdraws an open invitation (owners; admins for non-owner invitations). Returns false when it
-- was already accepted or withdrawn.
create function public.revoke_invitation(p_invitation_id uuid) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_invitation public.tenant_invitations;
begin
  select * into v_invitation from public.tenant_invitations i where i.id = p_invitation_id;
  perform private.assert_row_access(v_invitation.tenant_id, '{owner,admin}', 'invitation', p_invitation_id::text);
  if not private.may_manage_member(v_invitation.tenant_id, null, null, v_invitation.role) then
    raise exception 'only an owner can withdraw an owner''s invitation' using errcode = 'insufficient_privilege';
  end if;
  update public.tenant_invitations i set revoked_at = now()
  where i.id = p_invitation_id and i.accepted_at is null and i.revoked_at is null;
  return found;
end
$$;

-- The invited user, signed in with the invited address, joins the tenant. A wrong, used,
-- withdrawn or expired token, or another address, all get the same answer. Someone who is a
-- member already keeps their role. Returns the tenant's id.
create function public.accept_invitation(p_token text) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_email text;
  v_invitation public.tenant_invitations;
begin
  if v_user is null then
    raise exception 'sign in to accept an invitation' using errcode = 'insufficient_privilege';
  end if;
  select lower(u.email) into v_email from auth.users u where u.id = v_user;
  select * into v_invitation from public.tenant_invitations i
  where i.token_hash = extensions.digest(coalesce(p_token, ''), 'sha256')
    and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
    and i.email = v_email
  for update;
  if v_invitation.id is null then
    raise exception 'invitation not found, used or expired' using errcode = 'no_data_found';
  end if;
  insert into public.tenant_members (tenant_id, user_id, role)
  values (v_invitation.tenant_id, v_user, v_invitation.role)
  on conflict (tenant_id, user_id) do nothing;
  update public.tenant_invitations i set accepted_at = now(), accepted_by = v_user where i.id = v_invitation.id;
  return v_invitation.tenant_id;
end
$$;

-- Gives a member another role. Returns false when the member already had it.
create function public.change_member_role(p_tenant_id uuid, p_user_id uuid, p_role public.member_role)
returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_current public.member_role;
begin
  select m.role into v_current from public.tenant_members m
  where m.tenant_id = p_tenant_id and m.user_id = p_user_id
  for update;
  -- A member that is not there and a tenant that is not the caller's answer alike.
  perform private.assert_row_access(
    case when v_current is not null then p_tenant_id end, '{owner,admin}', 'member', p_user_id::text);
  if p_role is null then
    raise exception 'a role is needed' using errcode = 'invalid_parameter_value';
  end if;
  if not private.may_manage_member(p_tenant_id, p_user_id, v_current, p_role) then
    raise exception 'only an owner can change an owner''s role or make an owner'
      using errcode = 'insufficient_privilege';
  end if;
  if v_current = p_role then
    return false;
  end if;
  update public.tenant_members m set role = p_role where m.tenant_id = p_tenant_id and m.user_id = p_user_id;
  return true;
end
$$;

-- Removes a member (or the caller leaves). The last owner cannot go.
create function public.remove_member(p_tenant_id uuid, p_user_id uuid) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_current public.member_role;
begin
  select m.role into v_current from public.tenant_members m
  where m.tenant_id = p_tenant_id and m.user_id = p_user_id
  for update;
  perform private.assert_row_access(
    case when v_current is not null then p_tenant_id end,
    case when p_user_id = (select auth.uid()) then '{owner,admin,staff}' else '{owner,admin}' end::public.member_role[],
    'member', p_user_id::text);
  if not private.may_manage_member(p_tenant_id, p_user_id, v_current, null) then
    raise exception 'only an owner can remove an owner' using errcode = 'insufficient_privilege';
  end if;
  delete from public.tenant_members m where m.tenant_id = p_tenant_id and m.user_id = p_user_id;
end
$$;

revoke all on function public.invite_member(uuid, text, public.member_role, interval) from public, anon;
revoke all on function public.revoke_invitation(uuid) from public, anon;
revoke all on function public.accept_invitation(text) from public, anon;
revoke all on function public.change_member_role(uuid, uuid, public.member_role) from public, anon;
revoke all on function public.remove_member(uuid, uuid) from public, anon;
grant execute on function public.invite_member(uuid, text, public.member_role, interval) to authenticated, service_role;
grant execute on function public.revoke_invitation(uuid) to authenticated, service_role;
grant execute on function public.accept_invitation(text) to authenticated, service_role;
grant execute on function public.change_member_role(uuid, uuid, public.member_role) to authenticated, service_role;
grant execute on function public.remove_member(uuid, uuid) to authenticated, service_role;
