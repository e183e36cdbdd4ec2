-- Secrets are set and rotated by owners and admins and never read back through the API.
begin;
select plan(11);

insert into auth.users (id, email) values
  ('00000000-0000-0000-0000-00000000000a', 'owner-a@example.com'),
  ('00000000-0000-0000-0000-00000000000b', 'staff-a@example.com'),
  ('00000000-0000-0000-0000-00000000000c', 'owner-b@example.com');
insert into public.tenants (id, name, webhook_key) values
  ('10000000-0000-0000-0000-00000000000a', 'Hotel A', 'hotel-a-webhook-key-0001'),
  ('10000000-0000-0000-0000-00000000000b', 'Hotel B', 'hotel-b-webhook-key-0001');
insert into public.tenant_members (tenant_id, user_id, role) values
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000a', 'owner'),
  ('10000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b', 'staff'),
  ('10000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-00000000000c', 'owner');
insert into public.pms_configurations (id, tenant_id, provider, auth_scheme) values
  ('30000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-00000000000a', 'guesty', 'standard_webhooks');

-- ---- the owner of A sets secrets ---------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000a", "role": "authenticated"}', true);

select lives_ok(
  $$select public.set_pms_webhook_secret('30000000-0000-0000-0000-00000000000a',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$,
  'an owner sets the webhook secret'
);
select lives_ok(
  $$select public.set_pms_credentials('30000000-0000-0000-0000-00000000000a', '{"api_key": "k-123"}')$$,
  'an owner sets the PMS credentials'
);
select throws_ok(
  $$select public.set_pms_webhook_secret('30000000-0000-0000-0000-00000000000a', 'not-a-whsec-secret-value')$$,
  '23514',
  'a Standard Webhooks secret looks like whsec_<base64>',
  'a malformed secret is refused with the reason'
);
select throws_ok(
  'select * from private.webhook_secrets',
  '42501',
  'permission denied for table webhook_secrets',
  'an owner cannot read the stored secrets back'
);
select throws_ok(
  'select * from private.pms_credentials',
  '42501',
  'permission denied for table pms_credentials',
  'nor the stored PMS credentials'
);
select throws_ok(
  $$select * from internal.webhook_auth_context_v1('pms', 'guesty', 'hotel-a-webhook-key-0001')$$,
  '42501',
  'permission denied for schema internal',
  'nor through the service lookup'
);
select isnt(
  (select webhook_secret_set_at from public.pms_configurations where id = '30000000-0000-0000-0000-00000000000a'),
  null,
  'the dashboard sees when the secret was set'
);

-- ---- staff and other tenants ----------------------------------------------------------------
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000b", "role": "authenticated"}', true);
select throws_ok(
  $$select public.rotate_pms_webhook_secret('30000000-0000-0000-0000-00000000000a')$$,
  'P0002',
  'PMS configuration not found or not accessible',
  'staff cannot rotate secrets (answered as for a missing configuration)'
);
select set_config('request.jwt.claims',
  '{"sub": "00000000-0000-0000-0000-00000000000c", "role": "authenticated"}', true);
select throws_ok(
  $$select public.set_pms_credentials('30000000-0000-0000-0000-00000000000a', '{"api_key": "evil"}')$$,
  'P0002',
  'PMS configuration not found or not accessible',
  'the owner of B cannot overwrite A''s credentials, nor learn that they exist'
);

-- ---- rotation keeps the previous secret valid for the grace period ----------------------------
reset role;
select public.set_pms_webhook_secret('30000000-0000-0000-0000-00000000000a',
  'whsec_bmV3LXNlY3JldC1mb3ItaG90ZWwtYQ==', '1 hour');
select is(
  (select secrets from internal.webhook_auth_context_v1('pms', 'guesty', 'hotel-a-webhook-key-0001')),
  array['whsec_bmV3LXNlY3JldC1mb3ItaG90ZWwtYQ==', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  'after rotation the new and the previous secret are both active, newest first'
);
select public.set_pms_webhook_secret('30000000-0000-0000-0000-00000000000a',
  'whsec_dGhpcmQtc2VjcmV0LWZvci1ob3RlbC1h', '1 hour');
select is(
  (select secrets from internal.webhook_auth_context_v1('pms', 'guesty', 'hotel-a-webhook-key-0001')),
  array['whsec_dGhpcmQtc2VjcmV0LWZvci1ob3RlbC1h', 'whsec_bmV3LXNlY3JldC1mb3ItaG90ZWwtYQ=='],
  'a second rotation retires the oldest at once: never more than two active'
);

select * from finish();
rollback;
