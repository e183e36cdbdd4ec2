-- Outbound URL policy: every URL a tenant can set, and the system later calls, must point at a
-- public HTTPS host on the default port. Refused: loopback, private, link-local (cloud metadata
-- at 169.254.169.254), CGNAT, multicast, unspecified and reserved addresses, in IPv4 and IPv6
-- (IPv4-mapped included), IPv4 in decimal, octal or hex forms, single-label and local-only names
-- (localhost, *.local, *.internal), user:password@ parts and other ports.
--
-- This is the check where a URL is saved. Names are not resolved here (DNS can change): the
-- callers check the addresses again when they connect (worker/url_guard.py,
-- supabase/functions/_shared/url_guard.ts, devstack/net_dispatcher.py).
--
-- Local development (simulators on 127.0.0.1) needs http and loopback: a platform setting,
-- off by default, allows them (`make demo`, the seed and the test runs turn it on).

-- ============================================================================================
-- Platform settings (one row; back end only)
-- ============================================================================================
create table private.platform_settings (
  id boolean primary key default true check (id),
  -- Local development only: allow http, any port and loopback/private addresses.
  allow_local_urls boolean not null default false,
  updated_at timestamptz not null default now()
);

insert into private.platform_settings default values;

create trigger platform_settings_set_updated_at before update on private.platform_settings
for each row execute function private.set_updated_at();

alter table private.platform_settings enable row level security;
revoke all on private.platform_settings from public, anon, authenticated;
grant select, update on private.platform_settings to service_role;

create function private.allow_local_urls() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((select s.allow_local_urls from private.platform_settings s), false)
$$;

-- ============================================================================================
-- The policy
-- ============================================================================================

-- Why an IP address may not be called, or null when it may. IPv6 is allowed only in global
-- unicast (2000::/3), which also leaves out IPv4-mapped, NAT64 and unique-local addresses.
create function private.address_refusal(p_address inet) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when family(p_address) = 4 then
      case
        when p_address << '0.0.0.0/8' then 'an unspecified address'
        when p_address << '127.0.0.0/8' then 'a loopback address'
        when p_address << '10.0.0.0/8' or p_address << '172.16.0.0/12' or p_address << '192.168.0.0/16'
          then 'a private address'
        when p_address << '169.254.0.0/16' then 'a link-local address (cloud metadata lives here)'
        when p_address << '100.64.0.0/10' then 'a carrier-grade NAT address'
        when p_address << '224.0.0.0/4' then 'a multicast address'
        when p_address << '240.0.0.0/4' then 'a reserved address'
        when p_address << '192.0.0.0/24' or p_address << '192.0.2.0/24' or p_address << '192.88.99.0/24'
          or p_address << '198.18.0.0/15' or p_address << '198.51.100.0/24' or p_address << '203.0.113.0/24'
          then 'a reserved address'
      end
    else
      case
        when p_address = '::' then 'an unspecified address'
        when p_address = '::1' then 'a loopback address'
        when p_address << '::ffff:0:0/96' then 'an IPv4-mapped address'
        when p_address << 'fe80::/10' then 'a link-local address'
        when p_address << 'fc00::/7' then 'a private (unique local) address'
        when p_address << 'ff00::/8' then 'a multicast address'
        when not p_address << '2000::/3' then 'a reserved address'
        when p_address << '2001::/23' or p_address << '2001:db8::/32' or p_address << '2002::/16'
          or p_address << '3fff::/20' then 'a reserved address'
      end
  end
$$;

-- Why a URL may not be called, or null when it may. p_allow_local: the local-development
-- setting (http, any port, any address).
create function private.url_refusal(p_url text, p_allow_local boolean) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_parts text[];
  v_scheme text;
  v_authority text;
  v_host text;
  v_port text;
  v_address inet;
  v_last_label text;
  v_octet text := '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
begin
  if p_url is null then
    return null;
  end if;
  if length(p_url) > 2048 or p_url ~ '[[:space:][:cntrl:]\\]' then
    return 'it must be a URL without spaces or backslashes, at most 2048 characters';
  end if;
  v_parts := regexp_match(p_url, '^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([/?#].*)?$');
  if v_parts is null then
    return 'it must be an absolute https:// URL';
  end if;
  v_scheme := lower(v_parts[1]);
  v_authority := v_parts[2];
  if v_scheme <> 'https' and not (p_allow_local and v_scheme = 'http') then
    return 'it must use https';
  end if;
  if position('@' in v_authority) > 0 then
    return 'it must not contain a user name or password';
  end if;

  if v_authority ~ '^\[' then
    v_parts := regexp_match(v_authority, '^\[([0-9A-Fa-f:.]+)\](:([0-9]*))?$');
    if v_parts is null then
      return 'its IPv6 address is malformed';
    end if;
    begin
      v_address := v_parts[1]::inet;
    exception when invalid_text_representation then
      return 'its IPv6 address is malformed';
    end;
    v_host := v_parts[1];
    v_port := v_parts[3];
  else
    v_parts := regexp_match(v_authority, '^([^:]*)(:([0-9]*))?$');
    if v_parts is null then
      return 'its host or port is malformed';
    end if;
    v_host := lower(v_parts[1]);
    v_port := v_parts[3];
    -- A trailing dot names the same host (localhost. is localhost).
    v_host := regexp_replace(v_host, '\.$', '');
    if v_host !~ '^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$' or length(v_host) > 253 then
      return 'its host must be a plain DNS name (letters, digits, hyphens; IDNs as xn--) or an IP address';
    end if;
    -- A host whose last label is a number is an IPv4 address to URL parsers (127.1, 0x7f.1,
    -- 2130706433, 0177.0.0.1 all mean 127.0.0.1); only the usual four decimals are accepted.
    v_last_label := substring(v_host from '[^.]*$');
    if v_last_label ~ '^([0-9]+|0x[0-9a-f]*)$' then
      if v_host !~ ('^' || v_octet || '(\.' || v_octet || '){3}$') then
        return 'an IPv4 address must be written as four decimal numbers (no octal, hex or short forms)';
      end if;
      v_address := v_host::inet;
    end if;
  end if;

  if v_port is not null and v_port <> '' then
    if v_port !~ '^[0-9]{1,5}$' or v_port::integer not between 1 and 65535 then
      return 'its port is malformed';
    end if;
    if not p_allow_local and v_port::integer <> 443 then
      return 'it must use the default https port (443)';
    end if;
  end if;

  if p_allow_local then
    return null;
  end if;
  if v_address is not null then
    return 'it points at ' || private.address_refusal(v_address);
  end if;
  if position('.' in v_host) = 0 then
    return 'its host must be a public DNS name (' || v_host || ' is a local name)';
  end if;
  if v_host ~ '\.(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$' then
    return 'its host must be a public DNS name (' || v_host || ' is a local name)';
  end if;
  return null;
end
$$;

-- Raises a check violation naming the setting and the reason when the URL may not be used.
create function private.assert_outbound_url(p_url text, p_what text) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_reason text := private.url_refusal(p_url, private.allow_local_urls());
begin
  if v_reason is not null then
    raise exception '% is not allowed: %', p_what, v_reason
      using errcode = 'check_violation',
            hint = 'use a public https:// URL on port 443 (see supabase/functions/README.md, Outbound URLs)';
  end if;
end
$$;

-- Trigger: tg_argv[0] names the URL column of the row being written. Security definer: it
-- reads the platform setting, which the tenant users who write these rows cannot.
create function private.check_outbound_url_column() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.assert_outbound_url(to_jsonb(new) ->> tg_argv[0], tg_table_name || '.' || tg_argv[0]);
  return new;
end
$$;

create trigger tenants_check_notification_url
before insert or update of notification_url on public.tenants
for each row execute function private.check_outbound_url_column('notification_url');

create trigger pms_configurations_check_api_base_url
before insert or update of api_base_url on public.pms_configurations
for each row execute function private.check_outbound_url_column('api_base_url');

create trigger waha_configurations_check_base_url
before insert or update of base_url on public.waha_configurations
for each row execute function private.check_outbound_url_column('base_url');

-- PMS credentials may carry URLs the worker calls (OAuth token_url): same rule for any *_url key.
create function private.check_credential_urls() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
begin
  for v_key, v_value in select e.key, e.value from jsonb_each(new.credentials) e where e.key ~* 'url$' loop
    if jsonb_typeof(v_value) <> 'string' then
      raise exception 'credentials.% must be a URL string', v_key using errcode = 'check_violation';
    end if;
    perform private.assert_outbound_url(v_value #>> '{}', 'credentials.' || v_key);
  end loop;
  return new;
end
$$;

create trigger pms_credentials_check_urls
before insert or update of credentials on private.pms_credentials
for each row execute function private.check_credential_urls();

-- A tenant notification is checked again when it is queued for pg_net: the setting may have
-- changed since the URL was saved, and a refused one fails at once instead of being sent.
create function ops.refuse_disallowed_notification_urls() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_reason text;
begin
  if new.target = 'tenant' then
    v_reason := private.url_refusal(new.url, private.allow_local_urls());
    if v_reason is not null then
      new.status := 'failed';
      new.last_error := 'refused: the notification URL is not allowed: ' || v_reason;
    end if;
  end if;
  return new;
end
$$;

create trigger notifications_refuse_disallowed_urls
before insert on ops.notifications
for each row execute function ops.refuse_disallowed_notification_urls();

revoke all on function private.address_refusal(inet) from public;
revoke all on function private.url_refusal(text, boolean) from public;
revoke all on function private.assert_outbound_url(text, text) from public;
revoke all on function private.allow_local_urls() from public;
grant execute on function private.address_refusal(inet) to service_role;
grant execute on function private.url_refusal(text, boolean) to service_role;
grant execute on function private.allow_local_urls() to service_role;
