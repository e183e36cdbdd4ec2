-- Tenant isolation as PostgREST applies it: `set local role authenticated` plus the JWT claims.
-- The full role x table x command matrix lives in tests/test_rls_matrix.py; this file pins the
-- exact errors a user sees.
begin;
select plan(15);

insert into auth.users (id, email) values
  ('00000000-0000-0000-0000-00000000000a', 'owner-a@example.com'),
  ('00000000-0000-0000-0000-00000000000b', 'staff-a@example.com'),
  ('00000000-0000-0000-0000-00000000000c', 'owner-b@example.com');
insert into public.tenants (id, name) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A'),
  ('10000000-0000-0000-0000-00000000000b', 'Hotel B');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000a', 'owner'),
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b', 'staff'),
  ('10000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-00000000000c', 'owner');
insert into public.properties (id, tenant_id, name, timezone) values
  ('20000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-00000000000a', 'A Riverside', 'Europe/Berlin'),
  ('20000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-00000000000b', 'B Beach', 'America/New_York');

-- ---- as the owner of A ----------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);

select results_eq(
  'select name from public.properties',
  array['A Riverside'],
  'the owner of A sees only A''s properties'
);

select throws_ok(
  $$insert into public.properties (tenant_id, name, timezone)
    values ('10000000-0000-0000-0000-00000000000b', 'Sneaky', 'UTC')$$,
  '42501',
  'new row violates row-level security policy for table "properties"',
  'the owner of A cannot add a property to B'
);

select throws_ok(
  $$update public.properties set tenant_id = '10000000-0000-0000-0000-00000000000b'
    where id = '20000000-0000-0000-0000-00000000000a'$$,
  '23514',
  'tenant_id of properties cannot change',
  'the owner of A cannot move a property into B'
);

update public.properties set name = 'Hijacked' where id = '20000000-0000-0000-0000-00000000000b';
select is(
  (select name from public.properties where id = '20000000-0000-0000-0000-00000000000b'),
  null,
  'an update of B''s property by A''s owner touches nothing it can see'
);

select lives_ok(
  $$insert into public.tenant_members (tenant_id, user_id, role)
    values ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000c', 'staff')$$,
  'the owner of A adds a member to A'
);

select throws_ok(
  $$delete from public.tenant_members where user_id = '00000000-0000-0000-0000-00000000000a'$$,
  '23514',
  'a tenant must keep at least one owner',
  'the last owner cannot remove themselves'
);

-- ---- as staff of A --------------------------------------------------------------------------
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000b", "role": "authenticated"}', true);

select throws_ok(
  $$insert into public.pms_configurations (tenant_id, provider)
    values ('10000000-0000-0000-0000-00000000000a', 'apaleo')$$,
  '42501',
  'new row violates row-level security policy for table "pms_configurations"',
  'staff cannot create a PMS configuration'
);

select lives_ok(
  $$update public.tenant_members set role = 'owner' where user_id = '00000000-0000-0000-0000-00000000000b'$$,
  'staff may try to promote themselves (RLS filters the row, as PostgREST shows: 0 rows)'
);

select is(
  (select role::text from public.tenant_members where user_id = '00000000-0000-0000-0000-00000000000b'
     and tenant_id = '10000000-0000-0000-0000-00000000000a'),
  'staff',
  'and stay staff'
);

-- ---- as anon ----------------------------------------------------------------------------------
reset role;
set local role anon;
select set_config('request.jwt.claims', '{"role": "anon"}', true);

select throws_ok(
  'select * from public.tenants',
  '42501',
  'permission denied for table tenants',
  'anon cannot read tenants'
);

select throws_ok(
  $$select public.create_tenant('Anon Hotel')$$,
  '42501',
  null,
  'anon cannot create a tenant'
);

-- ---- a new user creates a tenant only with the platform's invitation ---------------------------
reset role;
insert into auth.users (id, email, email_confirmed_at) values
  ('00000000-0000-0000-0000-00000000000d', 'new@example.com', now()),
  ('00000000-0000-0000-0000-00000000000e', 'unconfirmed@example.com', null);
select private.invite_tenant_owner('unconfirmed@example.com');
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000d", "role": "authenticated"}', true);
select throws_ok(
  $$select public.create_tenant('Hotel Uninvited')$$,
  '42501',
  'creating a hotel group needs an invitation from the platform',
  'a signed-in user without an invitation cannot create a tenant'
);
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000e", "role": "authenticated"}', true);
select throws_ok(
  $$select public.create_tenant('Hotel Unconfirmed')$$,
  '42501',
  'creating a hotel group needs an invitation from the platform',
  'an invitation counts only for a confirmed e-mail address'
);
reset role;
select private.invite_tenant_owner('NEW@example.com');
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000d", "role": "authenticated"}', true);
select public.create_tenant('Hotel D');
select throws_ok(
  $$select public.create_tenant('Hotel D2')$$,
  '42501',
  'creating a hotel group needs an invitation from the platform',
  'an invitation creates one tenant'
);
select results_eq(
  'select t.name, m.role::text from public.tenants t join public.tenant_members m on m.tenant_id = t.id',
  $$values ('Hotel D', 'owner')$$,
  'a user who creates a tenant is its owner and sees only it'
);

select * from finish();
rollback;
