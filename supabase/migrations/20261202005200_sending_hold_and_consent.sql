-- Staff controls over sending: pause and resume the tenant's sending with a reason, and opt a
-- guest in or out, recording who did it and when.

-- ============================================================================================
-- Pausing the tenant's sending by hand
-- ============================================================================================
-- Every claim function skips a session whose sends_paused_at is set, and the system sets and
-- clears that pause itself (session down, API key rejected, WORKING again). A pause by hand is
-- kept apart (sends_held_*) and re-applied over the system's by a trigger, so a session coming
-- back to WORKING never lifts it; resuming lifts only the hold.
alter table public.waha_configurations
  add column sends_held_reason text check (length(sends_held_reason) between 1 and 500),
  add column sends_held_by uuid references auth.users (id) on delete set null,
  add column sends_held_at timestamptz,
  add constraint waha_configurations_sends_held_check
    check ((sends_held_reason is null) = (sends_held_at is null));

create function private.apply_sends_hold() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.sends_held_at is not null then
    new.sends_paused_reason := 'held: ' || new.sends_held_reason;
    new.sends_paused_at := coalesce(new.sends_paused_at, new.sends_held_at);
  elsif tg_op = 'UPDATE' and old.sends_held_at is not null and new.sends_paused_reason like 'held: %' then
    -- Resumed: back to what the session allows.
    if new.session_status = 'WORKING' then
      new.sends_paused_reason := null;
      new.sends_paused_at := null;
    else
      new.sends_paused_reason := 'session ' || new.session_status;
    end if;
  end if;
  return new;
end
$$;

-- Named to fire after waha_configurations_track_session_status (same event, alphabetical order).
create trigger waha_configurations_z_apply_sends_hold before insert or update on public.waha_configurations
for each row execute function private.apply_sends_hold();

revoke all on function private.apply_sends_hold() from public;

create function public.pause_tenant_sends(p_tenant_id uuid, p_reason text) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_reason text := nullif(btrim(p_reason), '');
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  if v_reason is null or length(v_reason) > 500 then
    raise exception 'a pause needs a reason of 1 to 500 characters' using errcode = 'invalid_parameter_value';
  end if;
  update public.waha_configurations w
  set sends_held_reason = v_reason, sends_held_by = (select auth.uid()), sends_held_at = now()
  where w.tenant_id = p_tenant_id;
  if not found then
    raise exception 'the tenant has no WhatsApp connection' using errcode = 'no_data_found';
  end if;
end
$$;

-- Lifts a pause by hand. Returns false when sending was not held. Sends still wait while the
-- session itself is down.
create function public.resume_tenant_sends(p_tenant_id uuid) returns boolean
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  update public.waha_configurations w
  set sends_held_reason = null, sends_held_by = null, sends_held_at = null
  where w.tenant_id = p_tenant_id and w.sends_held_at is not null;
  return found;
end
$$;

revoke all on function public.pause_tenant_sends(uuid, text) from public, anon;
revoke all on function public.resume_tenant_sends(uuid) from public, anon;
grant execute on function public.pause_tenant_sends(uuid, text) to authenticated, service_role;
grant execute on function public.resume_tenant_sends(uuid) to authenticated, service_role;

-- ============================================================================================
-- Guest consent: who opted a guest in or out, and when
-- ============================================================================================
alter table public.guests
  add column opt_in_changed_by uuid references auth.users (id) on delete set null;

-- One row per change of whatsapp_opt_in, whoever made it: a member (changed_by), the guest
-- (STOP, through the worker: changed_by null, source 'guest') or the back end.
create table public.guest_consent_changes (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  guest_id uuid not null,
  whatsapp_opt_in boolean not null,
  reason text,
  source text not null check (source in ('member', 'guest', 'system')),
  changed_by uuid references auth.users (id) on delete set null,
  changed_at timestamptz not null default now(),
  foreign key (tenant_id, guest_id) references public.guests (tenant_id, id) on delete cascade
);

create index guest_consent_changes_guest_idx on public.guest_consent_changes (tenant_id, guest_id, changed_at desc);

alter table public.guest_consent_changes enable row level security;
revoke all on public.guest_consent_changes from anon, authenticated;
grant select on public.guest_consent_changes to authenticated;
grant all on public.guest_consent_changes to service_role;

create policy "Consent changes are visible to members of their tenant"
on public.guest_consent_changes for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

-- Before: stamps who changed the flag on the guest row.
create function private.stamp_opt_in_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.whatsapp_opt_in is distinct from old.whatsapp_opt_in then
    new.opt_in_changed_by := (select auth.uid());
  end if;
  return new;
end
$$;

create trigger guests_stamp_opt_in_change before insert or update on public.guests
for each row execute function private.stamp_opt_in_change();

-- After: the history row (security definer: members cannot write the history themselves).
create function private.record_consent_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.guest_consent_changes (tenant_id, guest_id, whatsapp_opt_in, reason, source, changed_by, changed_at)
  values (
    new.tenant_id, new.id, new.whatsapp_opt_in,
    -- set_guest_opt_in passes its reason (an opt-in has no opt_out_reason to carry it).
    coalesce(nullif(current_setting('app.consent_reason', true), ''),
             case when not new.whatsapp_opt_in then new.opt_out_reason end),
    case
      when (select auth.uid()) is not null then 'member'
      when not new.whatsapp_opt_in and new.opt_out_reason = 'guest asked to stop' then 'guest'
      else 'system'
    end,
    (select auth.uid()), now());
  return null;
end
$$;

create trigger guests_record_consent_change after update of whatsapp_opt_in on public.guests
for each row when (old.whatsapp_opt_in is distinct from new.whatsapp_opt_in)
execute function private.record_consent_change();

revoke all on function private.stamp_opt_in_change() from public;
revoke all on function private.record_consent_change() from public;

-- Opts a guest in or out (any member of the guest's tenant). Returns false when the guest
-- already was so. Opting out cancels the guest's waiting messages; opting in plans them again.
create function public.set_guest_opt_in(p_guest_id uuid, p_opt_in boolean, p_reason text default null)
returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_guest public.guests;
begin
  select * into v_guest from public.guests g where g.id = p_guest_id for update;
  perform private.assert_row_access(v_guest.tenant_id, '{owner,admin,staff}', 'guest', p_guest_id::text);
  if p_opt_in is null then
    raise exception 'say whether the guest opts in (true) or out (false)' using errcode = 'invalid_parameter_value';
  end if;
  if v_guest.whatsapp_opt_in = p_opt_in then
    return false;
  end if;
  perform set_config('app.consent_reason', coalesce(left(btrim(p_reason), 500), ''), true);
  update public.guests g
  set whatsapp_opt_in = p_opt_in,
      opt_out_reason = case when p_opt_in then null
                            else left(coalesce(nullif(btrim(p_reason), ''), 'opted out by staff'), 500) end
  where g.id = p_guest_id;
  perform set_config('app.consent_reason', '', true);
  return true;
end
$$;

revoke all on function public.set_guest_opt_in(uuid, boolean, text) from public, anon;
grant execute on function public.set_guest_opt_in(uuid, boolean, text) to authenticated, service_role;
