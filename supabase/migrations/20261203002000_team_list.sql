-- The team screen's list: a tenant's members with their e-mail addresses. auth.users is not
-- readable by tenant users, so owners and admins read the addresses of their own tenant's members
-- through this function (one answer, PT404, for a tenant that is not theirs or for staff).

create function public.team_members(p_tenant_id uuid)
returns table (user_id uuid, email text, role public.member_role, joined_at timestamptz, is_me boolean)
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  return query
  select m.user_id, lower(u.email)::text, m.role, m.created_at, m.user_id = (select auth.uid())
  from public.tenant_members m
  join auth.users u on u.id = m.user_id
  where m.tenant_id = p_tenant_id
  order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end, lower(u.email);
end
$$;

revoke all on function public.team_members(uuid) from public, anon;
grant execute on function public.team_members(uuid) to authenticated, service_role;
