-- Platform bootstrap: what Supabase's Postgres image provides before any project migration
-- runs, recreated on a plain PostgreSQL 15 for tests and the local demo. It follows Supabase's
-- own definitions (supabase/postgres init scripts, GoTrue's auth schema) and stays small.
-- Test infrastructure only: it is never applied to a real Supabase project.

-- Roles that PostgREST switches into, and the login role it connects as.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- Supabase Auth (GoTrue) connects as this role; auth hooks are granted to it.
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;

-- Hosted Supabase's per-role statement timeouts; the Data API applies them to each request.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- Extensions live in their own schema on Supabase.
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

do $$
begin
  execute format('alter database %I set search_path to "$user", public, extensions', current_database());
end
$$;

-- Supabase grants the API roles everything in public by default and relies on RLS.
grant usage on schema public to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;

-- Supabase Auth (GoTrue): the columns this project and its tests touch.
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  phone text,
  is_anonymous boolean not null default false
);

create table if not exists auth.audit_log_entries (
  instance_id uuid,
  id uuid primary key,
  payload json,
  created_at timestamptz,
  ip_address varchar(64) not null default ''
);

-- Supabase Auth's own tables, with the columns GoTrue's migrations (supabase/auth, migrations/)
-- leave them with, for the local Auth behind the gateway (devstack/gateway/auth). Added column by
-- column so that a database bootstrapped before them gets them too.
alter table auth.users
  add column if not exists invited_at timestamptz,
  add column if not exists confirmation_token varchar(255) default '',
  add column if not exists confirmation_sent_at timestamptz,
  add column if not exists recovery_token varchar(255) default '',
  add column if not exists recovery_sent_at timestamptz,
  add column if not exists email_change_token_new varchar(255) default '',
  add column if not exists email_change varchar(255) default '',
  add column if not exists email_change_sent_at timestamptz,
  add column if not exists phone_confirmed_at timestamptz,
  add column if not exists phone_change text default '',
  add column if not exists phone_change_token varchar(255) default '',
  add column if not exists phone_change_sent_at timestamptz,
  add column if not exists confirmed_at timestamptz
    generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  add column if not exists email_change_token_current varchar(255) default '',
  add column if not exists email_change_confirm_status smallint default 0
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
  add column if not exists banned_until timestamptz,
  add column if not exists reauthentication_token varchar(255) default '',
  add column if not exists reauthentication_sent_at timestamptz,
  add column if not exists is_sso_user boolean not null default false,
  add column if not exists deleted_at timestamptz;
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower(email::text));

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid primary key default gen_random_uuid(),
  constraint identities_provider_id_provider_unique unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);

do $$ begin
  create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
exception when duplicate_object then null;
end $$;

create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz,
  updated_at timestamptz,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamptz,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text,
  oauth_client_id uuid,
  refresh_token_hmac_key text,
  refresh_token_counter bigint,
  scopes text check (char_length(scopes) <= 4096)
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) constraint refresh_tokens_token_unique unique,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade
);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens (parent);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);

-- How each session was authenticated (the access token's `amr`).
create table if not exists auth.mfa_amr_claims (
  session_id uuid not null references auth.sessions (id) on delete cascade,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  authentication_method text not null,
  id uuid primary key,
  constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method)
);

do $$ begin
  create type auth.one_time_token_type as enum (
    'confirmation_token', 'reauthentication_token', 'recovery_token',
    'email_change_token_new', 'email_change_token_current', 'phone_change_token'
  );
exception when duplicate_object then null;
end $$;

create table if not exists auth.one_time_tokens (
  id uuid primary key,
  user_id uuid not null references auth.users on delete cascade,
  token_type auth.one_time_token_type not null,
  token_hash text not null check (char_length(token_hash) > 0),
  relates_to text not null,
  created_at timestamp without time zone not null default now(),
  updated_at timestamp without time zone not null default now()
);
create index if not exists one_time_tokens_token_hash_hash_idx on auth.one_time_tokens using hash (token_hash);
create index if not exists one_time_tokens_relates_to_hash_idx on auth.one_time_tokens using hash (relates_to);
create unique index if not exists one_time_tokens_user_id_token_type_key on auth.one_time_tokens (user_id, token_type);

do $$ begin
  create type auth.code_challenge_method as enum ('s256', 'plain');
exception when duplicate_object then null;
end $$;

-- PKCE logins: the code challenge a client sent, and the auth code it exchanges.
create table if not exists auth.flow_state (
  id uuid primary key,
  user_id uuid,
  auth_code text,
  code_challenge_method auth.code_challenge_method,
  code_challenge text,
  provider_type text not null,
  provider_access_token text,
  provider_refresh_token text,
  created_at timestamptz,
  updated_at timestamptz,
  authentication_method text not null,
  auth_code_issued_at timestamptz,
  invite_token text,
  referrer text,
  oauth_client_state_id uuid,
  linking_target_id uuid,
  email_optional boolean not null default false
);
create index if not exists idx_auth_code on auth.flow_state (auth_code);
create index if not exists idx_user_id_auth_method on auth.flow_state (user_id, authentication_method);

-- As GoTrue leaves them: RLS on, no policies, nothing granted to the API roles.
alter table auth.users enable row level security;
alter table auth.audit_log_entries enable row level security;
alter table auth.identities enable row level security;
alter table auth.sessions enable row level security;
alter table auth.refresh_tokens enable row level security;
alter table auth.mfa_amr_claims enable row level security;
alter table auth.one_time_tokens enable row level security;
alter table auth.flow_state enable row level security;

-- Local only, not Supabase's: the e-mails the local Auth "sends" (Supabase's local stack catches
-- them in Inbucket/Mailpit; here tests and people read them with SQL), and its request log, which
-- the local Management API's logs endpoint serves as hosted Supabase serves auth_logs.
create schema if not exists devstack;
create table if not exists devstack.mail (
  id bigserial primary key,
  sent_at timestamptz not null default now(),
  recipient text not null,
  kind text not null,
  subject text not null,
  link text not null,
  body text not null
);
create table if not exists devstack.auth_logs (
  id uuid primary key default gen_random_uuid(),
  timestamp timestamptz not null default clock_timestamp(),
  event_message jsonb not null
);
create index if not exists auth_logs_timestamp_idx on devstack.auth_logs (timestamp);
alter table devstack.mail enable row level security;
alter table devstack.auth_logs enable row level security;

-- The local Management API's logs endpoint (devstack/simulators/management_api.py) runs its
-- callers' SQL on this view, shaped like hosted Supabase's ClickHouse `logs` table: one row per
-- line, `source`, and `log_attributes` as a string map (hstore: `log_attributes['path']` reads
-- the same in both dialects).
create extension if not exists hstore with schema extensions;

create or replace function devstack.log_attributes(p_line jsonb) returns extensions.hstore
language sql immutable
set search_path = ''
as $$
  -- Nested objects flatten to dotted keys (auth_event.action), as hosted logs do.
  with recursive walk (key, value) as (
    select e.key, e.value from jsonb_each(p_line) e
    union all
    select w.key || '.' || e.key, e.value
    from walk w
    cross join lateral jsonb_each(case when jsonb_typeof(w.value) = 'object' then w.value else '{}' end) e
  )
  select coalesce(extensions.hstore(array_agg(w.key), array_agg(w.value #>> '{}')), ''::extensions.hstore)
  from walk w
  where jsonb_typeof(w.value) <> 'object'
$$;

create or replace view devstack.logs as
select l.id::text as id, l.timestamp, l.event_message::text as event_message, 'auth_logs'::text as source,
       devstack.log_attributes(l.event_message) as log_attributes
from devstack.auth_logs l
union all
select a.id::text, a.created_at, a.payload::text, 'auth_audit_logs',
       devstack.log_attributes(jsonb_build_object('auth_audit_event', a.payload::jsonb))
from auth.audit_log_entries a;

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'devstack_logs_reader') then
    create role devstack_logs_reader nologin noinherit;
  end if;
end
$$;
grant usage on schema devstack, extensions to devstack_logs_reader;
grant select on devstack.logs to devstack_logs_reader;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role;

-- Supabase Realtime streams the tables added to this publication.
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
