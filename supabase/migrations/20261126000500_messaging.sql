-- Guest messaging: templates, automation rules, and message_logs, the queue of planned WhatsApp
-- messages with their whole lifecycle.
--
--   scheduled/queued --claim--> sending --sent--> sent --ack--> delivered --ack--> read
--        |                        |---fail(retryable)--> failed --claim--> sending ...
--        |                        |---fail(permanent or last attempt)--> dead --resend--> queued
--        |                        \---release (session down, shutdown)--> queued
--        \--> cancelled (reservation cancelled, guest opted out) | skipped (no phone, too late)

-- ============================================================================================
-- Types
-- ============================================================================================
create type public.message_status as enum (
  'scheduled', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'dead', 'cancelled', 'skipped'
);

create type public.automation_trigger as enum (
  'booking_confirmed', 'before_arrival', 'arrival_day', 'after_departure', 'booking_cancelled'
);

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.message_templates (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  key text not null check (key ~ '^[a-z][a-z0-9_]{1,63}$'),
  language text not null check (language ~ '^[a-z]{2}$'),
  body text not null check (length(body) between 1 and 4096),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, key, language)
);

create table public.automation_rules (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- null: every property of the tenant.
  property_id uuid,
  name text not null check (length(btrim(name)) between 1 and 200),
  trigger public.automation_trigger not null,
  -- Days before arrival (before_arrival) or after departure (after_departure).
  offset_days integer not null default 0 check (offset_days between 0 and 365),
  -- Local time of day to send; null sends as soon as the trigger happens.
  send_at_local time,
  template_key text not null check (template_key ~ '^[a-z][a-z0-9_]{1,63}$'),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  unique (tenant_id, name),
  foreign key (tenant_id, property_id) references public.properties (tenant_id, id) on delete cascade
);

create table public.message_logs (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  reservation_id uuid,
  guest_id uuid,
  rule_id uuid,
  template_key text not null,
  language text,
  to_phone text,
  body text,
  status public.message_status not null default 'scheduled',
  scheduled_for timestamptz not null default now(),
  next_attempt_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 8 check (max_attempts > 0),
  lease_owner text,
  lease_expires_at timestamptz,
  waha_message_id text,
  last_error text,
  -- One planned message per purpose, e.g. "<reservation id>:<rule id>".
  dedupe_key text not null check (length(dedupe_key) between 1 and 300),
  request_id text,
  job_id uuid,
  sent_at timestamptz,
  delivered_at timestamptz,
  read_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, dedupe_key),
  foreign key (tenant_id, reservation_id) references public.reservations (tenant_id, id) on delete cascade,
  foreign key (tenant_id, guest_id) references public.guests (tenant_id, id),
  foreign key (tenant_id, rule_id) references public.automation_rules (tenant_id, id) on delete set null (rule_id),
  check ((status = 'sending') = (lease_owner is not null and lease_expires_at is not null)),
  check (status not in ('sent', 'delivered', 'read') or waha_message_id is not null)
) with (fillfactor = 80);

create index message_logs_claimable_idx on public.message_logs (next_attempt_at, id)
where status in ('scheduled', 'queued', 'failed');
create index message_logs_leased_idx on public.message_logs (lease_expires_at)
where status = 'sending';
create unique index message_logs_waha_message_idx on public.message_logs (tenant_id, waha_message_id)
where waha_message_id is not null;
create index message_logs_tenant_created_idx on public.message_logs (tenant_id, created_at desc);
create index message_logs_reservation_idx on public.message_logs (reservation_id);
create index message_logs_guest_idx on public.message_logs (tenant_id, guest_id);
create index message_logs_request_idx on public.message_logs (request_id) where request_id is not null;
create index message_logs_dead_idx on public.message_logs (tenant_id, updated_at desc) where status = 'dead';

-- ============================================================================================
-- Triggers
-- ============================================================================================
create trigger message_templates_set_updated_at before update on public.message_templates
for each row execute function private.set_updated_at();
create trigger message_templates_forbid_tenant_change before update on public.message_templates
for each row execute function private.forbid_tenant_change();
create trigger automation_rules_set_updated_at before update on public.automation_rules
for each row execute function private.set_updated_at();
create trigger automation_rules_forbid_tenant_change before update on public.automation_rules
for each row execute function private.forbid_tenant_change();
create trigger message_logs_forbid_tenant_change before update on public.message_logs
for each row execute function private.forbid_tenant_change();

-- Placeholders a template may use; a template is checked when saved, never at send time.
create function private.template_placeholders() returns text[]
language sql immutable
set search_path = ''
as $$
  select array[
    'guest_name', 'guest_first_name', 'property_name', 'arrival_date', 'departure_date',
    'check_in_time', 'check_out_time', 'nights', 'reservation_id'
  ]
$$;

create function private.validate_template() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_unknown text;
  v_stripped text;
begin
  select string_agg(distinct m[1], ', ') into v_unknown
  from regexp_matches(new.body, '\{\{\s*([^{}]*?)\s*\}\}', 'g') as m
  where not (m[1] = any (private.template_placeholders()));
  if v_unknown is not null then
    raise exception 'unknown placeholder(s) in template %: %', new.key, v_unknown
      using errcode = 'check_violation',
            hint = 'allowed: ' || array_to_string(private.template_placeholders(), ', ');
  end if;
  v_stripped := regexp_replace(new.body, '\{\{\s*[a-z_]+\s*\}\}', '', 'g');
  if v_stripped ~ '\{\{|\}\}' then
    raise exception 'unbalanced {{ }} in template %', new.key using errcode = 'check_violation';
  end if;
  return new;
end
$$;

create trigger message_templates_validate before insert or update on public.message_templates
for each row execute function private.validate_template();

grant execute on function private.template_placeholders() to authenticated, service_role;

create function private.check_message_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status and not (
    (old.status in ('scheduled', 'queued') and new.status in ('scheduled', 'queued', 'sending', 'cancelled', 'skipped'))
    or (old.status = 'failed' and new.status in ('scheduled', 'queued', 'sending', 'cancelled', 'skipped', 'dead'))
    or (old.status = 'sending' and new.status in ('sent', 'failed', 'dead', 'queued', 'scheduled', 'skipped', 'cancelled'))
    or (old.status = 'sent' and new.status in ('delivered', 'read', 'dead'))
    or (old.status = 'delivered' and new.status = 'read')
    or (old.status = 'dead' and new.status = 'queued')
    or (old.status in ('cancelled', 'skipped') and new.status in ('scheduled', 'queued', 'cancelled', 'skipped'))
  ) then
    raise exception 'message %: % -> % is not allowed', old.id, old.status, new.status
      using errcode = 'check_violation';
  end if;
  new.updated_at := now();
  return new;
end
$$;

create trigger message_logs_transition before update on public.message_logs
for each row execute function private.check_message_transition();

-- Wake workers once per statement when it leaves work due soon.
create function private.notify_message_logs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if exists (
    select 1 from new_rows r
    where r.status in ('scheduled', 'queued', 'failed') and r.next_attempt_at <= now() + interval '1 minute'
  ) then
    perform pg_notify('message_logs', '');
  end if;
  return null;
end
$$;

create trigger message_logs_notify_insert after insert on public.message_logs
referencing new table as new_rows
for each statement execute function private.notify_message_logs();

create trigger message_logs_notify_update after update on public.message_logs
referencing new table as new_rows
for each statement execute function private.notify_message_logs();

-- ============================================================================================
-- Service API (the worker)
-- ============================================================================================

-- Sends whose worker died come back: retried while attempts remain, else dead-lettered. The
-- guest may already have the message (the crash may have followed WAHA's answer): that is the
-- at-least-once window, as short as the lease.
create function public.reclaim_messages_v1() returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  with expired as (
    select m.id from public.message_logs m
    where m.status = 'sending' and m.lease_expires_at < now()
    for update skip locked
  )
  update public.message_logs m
  set status = case when m.attempts >= m.max_attempts then 'dead' else 'failed' end::public.message_status,
      next_attempt_at = now(),
      last_error = format('lease of %s expired mid-send (attempt %s of %s)', m.lease_owner, m.attempts, m.max_attempts),
      lease_owner = null,
      lease_expires_at = null
  from expired
  where m.id = expired.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Claims due messages of tenants whose WhatsApp session is not paused, at most p_per_tenant
-- per tenant per batch so one busy hotel cannot starve the others.
create function public.claim_messages_v1(
  p_worker text,
  p_limit integer default 100,
  p_lease interval default '2 minutes',
  p_per_tenant integer default 20
) returns setof public.message_logs
language plpgsql
set search_path = ''
as $$
begin
  perform public.reclaim_messages_v1();
  return query
  with candidates as (
    select m.id, m.tenant_id, m.next_attempt_at
    from public.message_logs m
    where m.status in ('scheduled', 'queued', 'failed')
      and m.next_attempt_at <= now()
      and exists (
        select 1 from public.waha_configurations w
        where w.tenant_id = m.tenant_id and w.sends_paused_at is null
      )
    order by m.next_attempt_at, m.id
    limit p_limit * 4
    for update of m skip locked
  ),
  chosen as (
    select r.id from (
      select c.id, c.next_attempt_at,
        row_number() over (partition by c.tenant_id order by c.next_attempt_at, c.id) as rn
      from candidates c
    ) r
    where r.rn <= p_per_tenant
    order by r.next_attempt_at, r.id
    limit p_limit
  )
  update public.message_logs m
  set status = 'sending',
      attempts = m.attempts + 1,
      lease_owner = p_worker,
      lease_expires_at = now() + p_lease
  from chosen
  where m.id = chosen.id
  returning m.*;
end
$$;

create function public.mark_message_sent_v1(p_id bigint, p_worker text, p_waha_message_id text)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.message_logs m
  set status = 'sent', waha_message_id = p_waha_message_id, sent_at = now(), last_error = null,
      lease_owner = null, lease_expires_at = null
  where m.id = p_id and m.status = 'sending' and m.lease_owner = p_worker;
  return found;
end
$$;

create function public.fail_message_v1(
  p_id bigint,
  p_worker text,
  p_error text,
  p_retryable boolean default true,
  p_base_delay interval default '30 seconds',
  p_max_delay interval default '30 minutes'
) returns public.message_status
language plpgsql
set search_path = ''
as $$
declare
  v_status public.message_status;
begin
  update public.message_logs m
  set status = case
        when not p_retryable or m.attempts >= m.max_attempts then 'dead'
        else 'failed'
      end::public.message_status,
      next_attempt_at = now() + private.retry_delay(m.attempts, p_base_delay, p_max_delay),
      last_error = left(coalesce(p_error, 'unknown error'), 4000),
      lease_owner = null,
      lease_expires_at = null
  where m.id = p_id and m.status = 'sending' and m.lease_owner = p_worker
  returning m.status into v_status;
  return v_status;
end
$$;

-- Hands claimed messages back without counting the attempt (session down, shutdown).
create function public.release_messages_v1(
  p_ids bigint[],
  p_worker text,
  p_reason text default null,
  p_delay interval default '0 seconds'
) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.message_logs m
  set status = 'queued', attempts = greatest(m.attempts - 1, 0), next_attempt_at = now() + p_delay,
      last_error = coalesce(p_reason, m.last_error), lease_owner = null, lease_expires_at = null
  where m.id = any (p_ids) and m.status = 'sending' and m.lease_owner = p_worker;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Stops claiming a tenant's messages until its WhatsApp session reports WORKING again.
create function public.pause_tenant_sends_v1(p_tenant_id uuid, p_reason text)
returns void
language sql
set search_path = ''
as $$
  update public.waha_configurations w
  set sends_paused_reason = p_reason, sends_paused_at = coalesce(w.sends_paused_at, now())
  where w.tenant_id = p_tenant_id
$$;

-- Applies a WAHA ack (-1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED). Status only
-- moves forward: a late "delivered" never undoes "read". Returns the message's status, or null
-- when no message has that WAHA id (yet).
create function public.record_message_ack_v1(p_tenant_id uuid, p_waha_message_id text, p_ack integer)
returns public.message_status
language plpgsql
set search_path = ''
as $$
declare
  v_message public.message_logs;
  v_target public.message_status;
begin
  select * into v_message from public.message_logs m
  where m.tenant_id = p_tenant_id and m.waha_message_id = p_waha_message_id
  for update;
  if v_message.id is null then
    return null;
  end if;

  v_target := case
    when p_ack = -1 then 'dead'::public.message_status
    when p_ack = 2 then 'delivered'::public.message_status
    when p_ack >= 3 then 'read'::public.message_status
    else 'sent'::public.message_status
  end;

  if v_target = 'dead' and v_message.status = 'sent' then
    update public.message_logs
    set status = 'dead', last_error = 'WhatsApp reported a delivery error (ack -1)'
    where id = v_message.id;
    return v_target;
  end if;

  if v_target = 'delivered' and v_message.status = 'sent' then
    update public.message_logs set status = 'delivered', delivered_at = now() where id = v_message.id;
    return v_target;
  end if;

  if v_target = 'read' and v_message.status in ('sent', 'delivered') then
    update public.message_logs
    set status = 'read', read_at = now(), delivered_at = coalesce(delivered_at, now())
    where id = v_message.id;
    return v_target;
  end if;

  return v_message.status;
end
$$;

revoke all on function public.reclaim_messages_v1() from public, anon, authenticated;
revoke all on function public.claim_messages_v1(text, integer, interval, integer) from public, anon, authenticated;
revoke all on function public.mark_message_sent_v1(bigint, text, text) from public, anon, authenticated;
revoke all on function public.fail_message_v1(bigint, text, text, boolean, interval, interval) from public, anon, authenticated;
revoke all on function public.release_messages_v1(bigint[], text, text, interval) from public, anon, authenticated;
revoke all on function public.pause_tenant_sends_v1(uuid, text) from public, anon, authenticated;
revoke all on function public.record_message_ack_v1(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.reclaim_messages_v1() to service_role;
grant execute on function public.claim_messages_v1(text, integer, interval, integer) to service_role;
grant execute on function public.mark_message_sent_v1(bigint, text, text) to service_role;
grant execute on function public.fail_message_v1(bigint, text, text, boolean, interval, interval) to service_role;
grant execute on function public.release_messages_v1(bigint[], text, text, interval) to service_role;
grant execute on function public.pause_tenant_sends_v1(uuid, text) to service_role;
grant execute on function public.record_message_ack_v1(uuid, text, integer) to service_role;

-- ============================================================================================
-- Public API (tenant owners and admins)
-- ============================================================================================

-- Sends a dead, failed, cancelled or skipped message again, once. Returns false when it is
-- already on its way (queued, sending) or was delivered.
create function public.resend_message(p_message_id bigint) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_message public.message_logs;
begin
  select * into v_message from public.message_logs m where m.id = p_message_id;
  if v_message.id is null then
    raise exception 'message % not found', p_message_id using errcode = 'no_data_found';
  end if;
  perform private.assert_tenant_role(v_message.tenant_id, '{owner,admin}');
  if exists (
    select 1 from public.guests g where g.id = v_message.guest_id and not g.whatsapp_opt_in
  ) then
    raise exception 'guest of message % opted out of WhatsApp messages', p_message_id
      using errcode = 'check_violation';
  end if;
  update public.message_logs m
  set status = 'queued', attempts = 0, next_attempt_at = now()
  where m.id = p_message_id and m.status in ('dead', 'failed', 'cancelled', 'skipped');
  return found;
end
$$;

revoke all on function public.resend_message(bigint) from public, anon;
grant execute on function public.resend_message(bigint) to authenticated, service_role;

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.message_templates enable row level security;
alter table public.automation_rules enable row level security;
alter table public.message_logs enable row level security;

revoke all on public.message_templates, public.automation_rules, public.message_logs from anon, authenticated;
grant all on public.message_templates, public.automation_rules, public.message_logs to service_role;
grant select, insert, update, delete on public.message_templates, public.automation_rules to authenticated;
grant select on public.message_logs to authenticated;

create policy "Templates are visible to members of their tenant"
on public.message_templates for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Templates are added by the tenant's owners and admins"
on public.message_templates for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Templates are changed by the tenant's owners and admins"
on public.message_templates for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')))
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Templates are removed by the tenant's owners and admins"
on public.message_templates for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Automation rules are visible to members of their tenant"
on public.automation_rules for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Automation rules are added by the tenant's owners and admins"
on public.automation_rules for insert to authenticated
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Automation rules are changed by the tenant's owners and admins"
on public.automation_rules for update to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')))
with check (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Automation rules are removed by the tenant's owners and admins"
on public.automation_rules for delete to authenticated
using (tenant_id in (select private.tenant_ids_for('{owner,admin}')));

create policy "Messages are visible to members of their tenant"
on public.message_logs for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

alter publication supabase_realtime add table public.message_logs;
