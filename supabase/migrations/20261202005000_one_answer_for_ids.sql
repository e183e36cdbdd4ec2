-- One answer for "doesn't exist" and "not yours".
--
-- The tenant RPCs that take a row's id looked the row up first and answered P0002 "not found"
-- for a missing id but 42501 "permission denied for tenant <uuid>" for another tenant's id, so
-- a signed-in outsider walking ids learnt which exist and who owns them. Now every such RPC
-- answers a caller without the right role (outsider, staff where owners and admins are needed)
-- exactly as it answers a missing id: SQLSTATE P0002, "<what> not found or not accessible",
-- naming no tenant and no id. Refusals of existing rows are still counted for the runbook's denied-calls
-- figure and logged server-side (RAISE LOG), where tenants cannot read them.
--
-- Ids: the rows a tenant addresses directly are uuids (gen_random_uuid) except inbound_events
-- and message_logs, whose bigint ids are the worker's queue keys. With one answer for every id
-- that is not the caller's, walking those bigints tells nothing, so they stay as they are.

-- Raises the one answer unless the caller is the back end or a member of p_tenant_id with one of
-- p_roles. p_tenant_id null means the row does not exist.
create function private.assert_row_access(
  p_tenant_id uuid,
  p_roles public.member_role[],
  p_what text,
  p_id text
) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if p_tenant_id is not null and (
    private.is_service_caller()
    or exists (
      select 1 from public.tenant_members m
      where m.tenant_id = p_tenant_id
        and m.user_id = (select auth.uid())
        and m.role = any (p_roles)))
  then
    return;
  end if;
  if p_tenant_id is not null then
    perform nextval('ops.denied_calls_seq');
    raise log 'tenant access denied: user % needs one of % in tenant % for % %',
      coalesce((select auth.uid())::text, 'anonymous'), p_roles, p_tenant_id, p_what, p_id;
  end if;
  -- The id is not echoed either: the answer is the same text for every id.
  raise exception '% not found or not accessible', p_what using errcode = 'no_data_found';
end
$$;

revoke all on function private.assert_row_access(uuid, public.member_role[], text, text) from public;
grant execute on function private.assert_row_access(uuid, public.member_role[], text, text)
  to authenticated, service_role;

-- ============================================================================================
-- The RPCs, with the lookup and the check as one step
-- ============================================================================================
create or replace function public.set_pms_credentials(p_pms_configuration_id uuid, p_credentials jsonb)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  perform private.assert_row_access(v_tenant, '{owner,admin}', 'PMS configuration', p_pms_configuration_id::text);
  if p_credentials is null or jsonb_typeof(p_credentials) <> 'object' or p_credentials = '{}'::jsonb then
    raise exception 'credentials must be a non-empty JSON object' using errcode = 'check_violation';
  end if;
  insert into private.pms_credentials (pms_configuration_id, tenant_id, credentials)
  values (p_pms_configuration_id, v_tenant, p_credentials)
  on conflict (pms_configuration_id)
  do update set credentials = excluded.credentials, updated_at = now();
  update public.pms_configurations
  set credentials_set_at = now(), health = 'unknown', consecutive_failures = 0, last_error = null
  where id = p_pms_configuration_id;
end
$$;

create or replace function public.set_pms_webhook_secret(
  p_pms_configuration_id uuid,
  p_secret text,
  p_previous_valid_for interval default '24 hours'
) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_config public.pms_configurations;
begin
  select * into v_config from public.pms_configurations c where c.id = p_pms_configuration_id;
  perform private.assert_row_access(v_config.tenant_id, '{owner,admin}', 'PMS configuration', p_pms_configuration_id::text);
  perform private.validate_webhook_secret(v_config.auth_scheme, p_secret);
  perform private.add_webhook_secret(v_config.tenant_id, v_config.id, null, p_secret, p_previous_valid_for);
  update public.pms_configurations set webhook_secret_set_at = now() where id = v_config.id;
end
$$;

create or replace function public.rotate_pms_webhook_secret(
  p_pms_configuration_id uuid,
  p_previous_valid_for interval default '24 hours'
) returns text
language plpgsql security definer
set search_path = ''
as $$
declare
  v_config public.pms_configurations;
  v_secret text;
begin
  select * into v_config from public.pms_configurations c where c.id = p_pms_configuration_id;
  perform private.assert_row_access(v_config.tenant_id, '{owner,admin}', 'PMS configuration', p_pms_configuration_id::text);
  v_secret := private.generate_secret(v_config.auth_scheme::text);
  perform private.add_webhook_secret(v_config.tenant_id, v_config.id, null, v_secret, p_previous_valid_for);
  update public.pms_configurations set webhook_secret_set_at = now() where id = v_config.id;
  return v_secret;
end
$$;

create or replace function public.set_waha_api_key(p_waha_configuration_id uuid, p_api_key text)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select c.tenant_id into v_tenant from public.waha_configurations c where c.id = p_waha_configuration_id;
  perform private.assert_row_access(v_tenant, '{owner,admin}', 'WAHA configuration', p_waha_configuration_id::text);
  if p_api_key is null or length(btrim(p_api_key)) = 0 then
    raise exception 'the WAHA API key must not be empty' using errcode = 'check_violation';
  end if;
  insert into private.waha_api_keys (waha_configuration_id, tenant_id, api_key)
  values (p_waha_configuration_id, v_tenant, btrim(p_api_key))
  on conflict (waha_configuration_id) do update set api_key = excluded.api_key, updated_at = now();
  update public.waha_configurations
  set api_key_set_at = now(),
      -- A new key may fix a rejected one: let the worker try again.
      sends_paused_reason = case when sends_paused_reason like 'auth:%' then null else sends_paused_reason end,
      sends_paused_at = case when sends_paused_reason like 'auth:%' then null else sends_paused_at end
  where id = p_waha_configuration_id;
end
$$;

create or replace function public.replay_inbound_event(p_event_id bigint) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select e.tenant_id into v_tenant from public.inbound_events e where e.id = p_event_id;
  perform private.assert_row_access(v_tenant, '{owner,admin}', 'inbound event', p_event_id::text);
  update public.inbound_events e
  set status = 'pending', attempts = 0, next_attempt_at = now(), processed_at = null,
      replay_count = e.replay_count + 1
  where e.id = p_event_id and e.status = 'dead';
  return found;
end
$$;

create or replace function public.request_sync(
  p_pms_configuration_id uuid,
  p_kind public.sync_kind default 'incremental'
) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  perform private.assert_row_access(v_tenant, '{owner,admin}', 'PMS configuration', p_pms_configuration_id::text);
  if p_kind = 'reservation' then
    raise exception 'a manual sync is full or incremental' using errcode = 'invalid_parameter_value';
  end if;
  return private.enqueue_sync(p_pms_configuration_id, p_kind, 'manual', null, (select auth.uid()), null);
end
$$;
