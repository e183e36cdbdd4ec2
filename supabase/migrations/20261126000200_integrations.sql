-- Integrations: a tenant's PMS and WAHA (WhatsApp) connections, and their secrets.
-- Secrets live in `private` tables no API role can read; tenant admins set or rotate them
-- through functions that never return a stored secret.

-- ============================================================================================
-- Types
-- ============================================================================================
create type public.pms_provider as enum ('generic', 'apaleo', 'mews', 'cloudbeds', 'guesty');

-- How a PMS proves a webhook is genuine (chosen per tenant configuration).
create type public.webhook_auth_scheme as enum ('standard_webhooks', 'token', 'basic');

create type public.integration_health as enum ('unknown', 'ok', 'failing');

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.pms_configurations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  provider public.pms_provider not null,
  auth_scheme public.webhook_auth_scheme not null default 'standard_webhooks',
  is_active boolean not null default true,
  api_base_url text check (api_base_url ~ '^https?://'),
  -- The vendor's id of the account (Apaleo account, Mews enterprise, Cloudbeds property group).
  external_account_id text,
  sync_interval_minutes integer not null default 15 check (sync_interval_minutes between 1 and 1440),
  -- Reservations modified up to this instant are known to be synced.
  sync_cursor timestamptz,
  health public.integration_health not null default 'unknown',
  consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  last_error text,
  last_error_at timestamptz,
  last_success_at timestamptz,
  credentials_set_at timestamptz,
  webhook_secret_set_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  unique (tenant_id, provider)
);

create table public.waha_configurations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null unique references public.tenants (id) on delete cascade,
  base_url text not null check (base_url ~ '^https?://'),
  session_name text not null default 'default' check (session_name ~ '^[A-Za-z0-9_-]{1,64}$'),
  -- WAHA session status: STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED.
  session_status text not null default 'STOPPED'
    check (session_status in ('STOPPED', 'STARTING', 'SCAN_QR_CODE', 'WORKING', 'FAILED')),
  is_connected boolean generated always as (session_status = 'WORKING') stored,
  status_changed_at timestamptz not null default now(),
  -- Set while sends must not be attempted (session down, API key rejected); cleared on WORKING.
  sends_paused_reason text,
  sends_paused_at timestamptz,
  -- Anti-ban pacing: a random gap in this range between two messages of the session.
  send_gap_min_ms integer not null default 1000 check (send_gap_min_ms >= 0),
  send_gap_max_ms integer not null default 3000,
  api_key_set_at timestamptz,
  webhook_secret_set_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  check (send_gap_max_ms >= send_gap_min_ms),
  check ((sends_paused_reason is null) = (sends_paused_at is null))
);

create table private.pms_credentials (
  pms_configuration_id uuid primary key references public.pms_configurations (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  credentials jsonb not null check (jsonb_typeof(credentials) = 'object'),
  updated_at timestamptz not null default now()
);

create table private.waha_api_keys (
  waha_configuration_id uuid primary key references public.waha_configurations (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  api_key text not null check (length(api_key) between 1 and 500),
  updated_at timestamptz not null default now()
);

-- Webhook secrets, several per configuration while one is rotated out (expires_at set).
create table private.webhook_secrets (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  pms_configuration_id uuid references public.pms_configurations (id) on delete cascade,
  waha_configuration_id uuid references public.waha_configurations (id) on delete cascade,
  secret text not null check (length(secret) between 8 and 500),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  check (num_nonnulls(pms_configuration_id, waha_configuration_id) = 1)
);

create index webhook_secrets_pms_idx on private.webhook_secrets (pms_configuration_id)
where pms_configuration_id is not null;
create index webhook_secrets_waha_idx on private.webhook_secrets (waha_configuration_id)
where waha_configuration_id is not null;

-- ============================================================================================
-- Triggers
-- ============================================================================================
create trigger pms_configurations_set_updated_at before update on public.pms_configurations
for each row execute function private.set_updated_at();
create trigger pms_configurations_forbid_tenant_change before update on public.pms_configurations
for each row execute function private.forbid_tenant_change();
create trigger waha_configurations_set_updated_at before update on public.waha_configurations
for each row execute function private.set_updated_at();
create trigger waha_configurations_forbid_tenant_change before update on public.waha_configurations
for each row execute function private.forbid_tenant_change();

create function private.track_session_status() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.session_status is distinct from old.session_status then
    new.status_changed_at := now();
    -- Sends wait while the session is down instead of burning retries; WORKING resumes them.
    if new.session_status = 'WORKING' then
      new.sends_paused_reason := null;
      new.sends_paused_at := null;
    else
      new.sends_paused_reason := 'session ' || new.session_status;
      new.sends_paused_at := coalesce(new.sends_paused_at, now());
    end if;
  end if;
  return new;
end
$$;

create trigger waha_configurations_track_session_status before insert or update on public.waha_configurations
for each row execute function private.track_session_status();

-- ============================================================================================
-- Helper functions
-- ============================================================================================
create function private.generate_secret(p_scheme text) returns text
language sql volatile
set search_path = ''
as $$
  select case p_scheme
    when 'standard_webhooks' then 'whsec_' || encode(extensions.gen_random_bytes(24), 'base64')
    when 'basic' then 'pms:' || encode(extensions.gen_random_bytes(24), 'hex')
    else encode(extensions.gen_random_bytes(32), 'hex')
  end
$$;

create function private.validate_webhook_secret(p_scheme public.webhook_auth_scheme, p_secret text)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_secret is null or length(p_secret) < 16 then
    raise exception 'webhook secret must have at least 16 characters' using errcode = 'check_violation';
  end if;
  if p_scheme = 'standard_webhooks' and p_secret !~ '^whsec_[A-Za-z0-9+/]+={0,2}$' then
    raise exception 'a Standard Webhooks secret looks like whsec_<base64>' using errcode = 'check_violation';
  end if;
  if p_scheme = 'basic' and position(':' in p_secret) < 2 then
    raise exception 'a basic-auth secret is user:password' using errcode = 'check_violation';
  end if;
end
$$;

-- Adds a secret and keeps only the newest previous one valid, for p_previous_valid_for.
create function private.add_webhook_secret(
  p_tenant_id uuid,
  p_pms_configuration_id uuid,
  p_waha_configuration_id uuid,
  p_secret text,
  p_previous_valid_for interval
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_previous bigint;
begin
  select s.id into v_previous
  from private.webhook_secrets s
  where s.pms_configuration_id is not distinct from p_pms_configuration_id
    and s.waha_configuration_id is not distinct from p_waha_configuration_id
    and (s.expires_at is null or s.expires_at > now())
  order by s.created_at desc, s.id desc
  limit 1;

  update private.webhook_secrets s
  set expires_at = case when s.id = v_previous then now() + p_previous_valid_for else now() end
  where s.pms_configuration_id is not distinct from p_pms_configuration_id
    and s.waha_configuration_id is not distinct from p_waha_configuration_id
    and (s.expires_at is null or s.expires_at > now());

  insert into private.webhook_secrets (tenant_id, pms_configuration_id, waha_configuration_id, secret)
  values (p_tenant_id, p_pms_configuration_id, p_waha_configuration_id, p_secret);
end
$$;

-- ============================================================================================
-- Public API: setting and rotating secrets (owners and admins of the tenant, or the back end)
-- ============================================================================================
create function public.set_pms_credentials(p_pms_configuration_id uuid, p_credentials jsonb)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select c.tenant_id into v_tenant from public.pms_configurations c where c.id = p_pms_configuration_id;
  if v_tenant is null then
    raise exception 'PMS configuration % not found', p_pms_configuration_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_tenant, '{owner,admin}');
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

create function public.set_pms_webhook_secret(
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
  if v_config.id is null then
    raise exception 'PMS configuration % not found', p_pms_configuration_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_config.tenant_id, '{owner,admin}');
  perform private.validate_webhook_secret(v_config.auth_scheme, p_secret);
  perform private.add_webhook_secret(v_config.tenant_id, v_config.id, null, p_secret, p_previous_valid_for);
  update public.pms_configurations set webhook_secret_set_at = now() where id = v_config.id;
end
$$;

-- Generates a new secret and returns it this once, to be pasted into the PMS.
create function public.rotate_pms_webhook_secret(
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
  if v_config.id is null then
    raise exception 'PMS configuration % not found', p_pms_configuration_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_config.tenant_id, '{owner,admin}');
  v_secret := private.generate_secret(v_config.auth_scheme::text);
  perform private.add_webhook_secret(v_config.tenant_id, v_config.id, null, v_secret, p_previous_valid_for);
  update public.pms_configurations set webhook_secret_set_at = now() where id = v_config.id;
  return v_secret;
end
$$;

create function public.set_waha_api_key(p_waha_configuration_id uuid, p_api_key text)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select c.tenant_id into v_tenant from public.waha_configurations c where c.id = p_waha_configuration_id;
  if v_tenant is null then
    raise exception 'WAHA configuration % not found', p_waha_configuration_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_tenant, '{owner,admin}');
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

-- ============================================================================================
-- Service API (back end only): what the edge functions and the worker need to talk to vendors
-- ============================================================================================

-- The WAHA webhook HMAC key is set on the WAHA session by the server; no user ever sees it.
create function public.rotate_waha_webhook_secret_v1(
  p_waha_configuration_id uuid,
  p_previous_valid_for interval default '10 minutes'
) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_tenant uuid;
  v_secret text := encode(extensions.gen_random_bytes(32), 'hex');
begin
  select c.tenant_id into v_tenant from public.waha_configurations c where c.id = p_waha_configuration_id;
  if v_tenant is null then
    raise exception 'WAHA configuration % not found', p_waha_configuration_id using errcode = 'no_data_found';
  end if;
  perform private.add_webhook_secret(v_tenant, null, p_waha_configuration_id, v_secret, p_previous_valid_for);
  update public.waha_configurations set webhook_secret_set_at = now() where id = p_waha_configuration_id;
  return v_secret;
end
$$;

-- Who is behind a webhook URL, and the secrets that may have signed it. No row for an unknown
-- key, provider or inactive configuration (the caller answers 401 either way).
create function public.webhook_auth_context_v1(p_source text, p_provider text, p_webhook_key text)
returns table (tenant_id uuid, configuration_id uuid, auth_scheme text, secrets text[])
language sql stable
set search_path = ''
as $$
  select t.id, c.id, c.auth_scheme::text,
    coalesce(
      (select array_agg(s.secret order by s.id desc)
       from private.webhook_secrets s
       where s.pms_configuration_id = c.id and (s.expires_at is null or s.expires_at > now())),
      '{}')
  from public.tenants t
  join public.pms_configurations c on c.tenant_id = t.id
  where p_source = 'pms'
    and t.webhook_key = p_webhook_key
    and c.provider::text = p_provider
    and c.is_active
  union all
  select t.id, w.id, 'waha_hmac',
    coalesce(
      (select array_agg(s.secret order by s.id desc)
       from private.webhook_secrets s
       where s.waha_configuration_id = w.id and (s.expires_at is null or s.expires_at > now())),
      '{}')
  from public.tenants t
  join public.waha_configurations w on w.tenant_id = t.id
  where p_source = 'waha'
    and t.webhook_key = p_webhook_key
$$;

create function public.pms_connection_v1(p_pms_configuration_id uuid)
returns table (
  tenant_id uuid, provider text, api_base_url text, external_account_id text, credentials jsonb
)
language sql stable
set search_path = ''
as $$
  select c.tenant_id, c.provider::text, c.api_base_url, c.external_account_id,
    coalesce(k.credentials, '{}'::jsonb)
  from public.pms_configurations c
  left join private.pms_credentials k on k.pms_configuration_id = c.id
  where c.id = p_pms_configuration_id
$$;

create function public.waha_connection_v1(p_tenant_id uuid)
returns table (
  waha_configuration_id uuid, base_url text, session_name text, api_key text, session_status text,
  send_gap_min_ms integer, send_gap_max_ms integer
)
language sql stable
set search_path = ''
as $$
  select w.id, w.base_url, w.session_name, k.api_key, w.session_status, w.send_gap_min_ms, w.send_gap_max_ms
  from public.waha_configurations w
  left join private.waha_api_keys k on k.waha_configuration_id = w.id
  where w.tenant_id = p_tenant_id
$$;

revoke all on function public.set_pms_credentials(uuid, jsonb) from public, anon;
revoke all on function public.set_pms_webhook_secret(uuid, text, interval) from public, anon;
revoke all on function public.rotate_pms_webhook_secret(uuid, interval) from public, anon;
revoke all on function public.set_waha_api_key(uuid, text) from public, anon;
grant execute on function public.set_pms_credentials(uuid, jsonb) to authenticated, service_role;
grant execute on function public.set_pms_webhook_secret(uuid, text, interval) to authenticated, service_role;
grant execute on function public.rotate_pms_webhook_secret(uuid, interval) to authenticated, service_role;
grant execute on function public.set_waha_api_key(uuid, text) to authenticated, service_role;

revoke all on function public.rotate_waha_webhook_secret_v1(uuid, interval) from public, anon, authenticated;
revoke all on function public.webhook_auth_context_v1(text, text, text) from public, anon, authenticated;
revoke all on function public.pms_connection_v1(uuid) from public, anon, authenticated;
revoke all on function public.waha_connection_v1(uuid) from public, anon, authenticated;
grant execute on function public.rotate_waha_webhook_secret_v1(uuid, interval) to service_role;
grant execute on function public.webhook_auth_context_v1(text, text, text) to service_role;
grant execute on function public.pms_connection_v1(uuid) to service_role;
grant execute on function public.waha_connection_v1(uuid) to service_role;

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.pms_configurations enable row level security;
alter table public.waha_configurations enable row level security;
alter table private.pms_credentials enable row level security;
alter table private.waha_api_keys enable row level security;
alter table private.webhook_secrets enable row level security;

revoke all on private.pms_credentials, private.waha_api_keys, private.webhook_secrets
  from public, anon, authenticated;
grant all on private.pms_credentials, private.waha_api_keys, private.webhook_secrets to service_role;

revoke all on public.pms_configurations, public.waha_configurations from anon, authenticated;
grant all on public.pms_configurations, public.waha_configurations to service_role;
grant select on public.pms_configurations, public.waha_configurations to authenticated;
-- Health, cursors and secret timestamps are maintained by the system, not typed in.
grant insert (tenant_id, provider, auth_scheme, is_active, api_base_url, external_account_id,
              sync_interval_minutes),
      update (auth_scheme, is_active, api_base_url, external_account_id, sync_interval_minutes)
  on public.pms_configurations to authenticated;
grant insert (tenant_id, base_url, session_name, send_gap_min_ms, send_gap_max_ms),
      update (base_url, session_name, send_gap_min_ms, send_gap_max_ms)
  on public.waha_configurations to authenticated;
grant delete on public.pms_configurations, public.waha_configurations to authenticated;

create policy "PMS configurations are visible to members of their tenant"
on public.pms_configurations for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "PMS configurations are added by the tenant's owners and admins"
on public.pms_configurations for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "PMS configurations are changed by the tenant's owners and admins"
on public.pms_configurations for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')))
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "PMS configurations are removed by the tenant's owners and admins"
on public.pms_configurations for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "WAHA configurations are visible to members of their tenant"
on public.waha_configurations for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "WAHA configurations are added by the tenant's owners and admins"
on public.waha_configurations for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "WAHA configurations are changed by the tenant's owners and admins"
on public.waha_configurations for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')))
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "WAHA configurations are removed by the tenant's owners and admins"
on public.waha_configurations for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));
