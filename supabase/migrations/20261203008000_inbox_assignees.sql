-- Issue 15: whom a conversation can be assigned to. Every member of the hotel (front desk too)
-- sees the hotel's members by e-mail here, to assign a guest conversation to one of them;
-- team_members (owner/admin) stays the screen for managing the team.

create function public.inbox_assignees(p_tenant_id uuid)
returns table (user_id uuid, email text, is_me boolean)
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin,staff}', 'tenant', p_tenant_id::text);
  return query
  select m.user_id, lower(u.email)::text, m.user_id = (select auth.uid())
  from public.tenant_members m
  join auth.users u on u.id = m.user_id
  where m.tenant_id = p_tenant_id
  order by lower(u.email);
end
$$;

revoke all on function public.inbox_assignees(uuid) from public, anon;
grant execute on function public.inbox_assignees(uuid) to authenticated, service_role;
