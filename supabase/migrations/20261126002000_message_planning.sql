-- Message planning: a reservation's guest messages are (re)planned in SQL, by triggers, so every
-- writer of reservations, guests, rules, templates and properties (the worker, the dashboard
-- through PostgREST, plain SQL) gets the same rules.
--
-- One message_logs row per (reservation, automation rule), dedupe_key '<reservation id>:<rule id>':
--   * timed rules (before_arrival, arrival_day, after_departure) are planned for their local time in
--     the property's timezone (without a time of day: check-in time, or check-out time after
--     departure); booking_confirmed when the reservation is created (never on later changes);
--     booking_cancelled when its status changes to cancelled (a reservation that arrives already
--     cancelled was never confirmed to the guest, so it gets no notice). Those two go out as soon as
--     allowed, or at the next occurrence of their time of day if they have one.
--   * quiet hours defer a send to the end of the property's quiet window, as-soon-as-possible
--     messages included.
--   * rows not sent yet follow the reservation: new dates move them, cancellation or no-show cancels
--     them (except the cancellation notice), un-cancelling revives them. Rows being sent or already
--     sent (sending, sent, delivered, read, dead) are never touched.
--   * a row that cannot be sent is kept with status skipped and the reason in last_error: the guest
--     has no phone number or opted out, no template exists for its key, its time had passed when
--     it was planned, or (confirmation, notice) the stay is already over.
--   * opting out cancels the guest's waiting messages; other guest, rule, template and property
--     changes re-plan what they affect.
-- The worker renders the message once more right before sending (prepare_messages_v1), with the
-- guest's current name, phone and language, and settles what can no longer be sent.
--
-- Local times are defined for the two DST edge cases:
--   * a local time that does not exist (spring-forward gap) means the instant the gap ends
--     (02:30 on 2027-03-28 in Europe/Berlin is 03:00 CEST);
--   * a local time that exists twice (fall-back overlap) means its first occurrence
--     (02:30 on 2026-10-25 in Europe/Berlin is 02:30 CEST, not CET).
-- That is: the first instant at which the clock shows that time or later.

-- ============================================================================================
-- Time helpers
-- ============================================================================================

-- The helpers below are plpgsql, not SQL: a SQL function with a SET clause (search_path) is never
-- inlined and is planned anew in every statement that calls it, while plpgsql keeps its plans.

-- The offset of a timezone from UTC at an instant.
create function private.utc_offset(p_at timestamptz, p_timezone text) returns interval
language plpgsql immutable
set search_path = ''
as $$
begin
  return (p_at at time zone p_timezone) - (p_at at time zone 'UTC');
end
$$;

-- The instant a wall-clock time in a timezone names, with the DST cases defined above.
-- PostgreSQL itself resolves a gap with the offset before it (02:30 becomes 03:30) and an overlap
-- with the offset after it (the second 02:30), so both are corrected here.
create function private.local_instant(p_local timestamp, p_timezone text) returns timestamptz
language plpgsql stable strict
set search_path = ''
as $$
declare
  v_at timestamptz := p_local at time zone p_timezone;
  v_first timestamptz;
  v_lo bigint;
  v_hi bigint;
  v_mid bigint;
begin
  if (v_at at time zone p_timezone) = p_local then
    -- Exists. It may exist twice: try the offset in force a day earlier (before any transition
    -- close enough to make this time ambiguous).
    v_first := (p_local - private.utc_offset(v_at - interval '1 day', p_timezone)) at time zone 'UTC';
    if v_first < v_at and (v_first at time zone p_timezone) = p_local then
      return v_first;
    end if;
    return v_at;
  end if;

  -- In a gap: find the first whole second whose wall-clock time is not before p_local, i.e. the
  -- transition. It lies in (v_at - gap length, v_at]; wall-clock time rises with the instant.
  v_hi := ceil(extract(epoch from v_at))::bigint;
  v_lo := floor(extract(epoch from v_at - ((v_at at time zone p_timezone) - p_local)))::bigint;
  while v_hi - v_lo > 1 loop
    v_mid := v_lo + (v_hi - v_lo) / 2;
    if (to_timestamp(v_mid) at time zone p_timezone) >= p_local then
      v_hi := v_mid;
    else
      v_lo := v_mid;
    end if;
  end loop;
  return to_timestamp(v_hi);
end
$$;

-- Whether a local time of day is inside the quiet window [p_start, p_end), a window that may
-- cross midnight; start = end means no quiet hours.
create function private.in_quiet_hours(p_time time, p_start time, p_end time) returns boolean
language plpgsql immutable
set search_path = ''
as $$
begin
  return case
    when p_start = p_end then false
    when p_start < p_end then p_time >= p_start and p_time < p_end
    else p_time >= p_start or p_time < p_end
  end;
end
$$;

-- Defers an instant inside the property's quiet hours to the end of the quiet window: the first
-- instant the clock shows quiet_hours_end (a fall-back that briefly sets the clock before the
-- window's start does not end it). Without a timezone (no property) nothing is deferred.
create function private.after_quiet_hours(p_at timestamptz, p_timezone text, p_start time, p_end time)
returns timestamptz
language plpgsql stable
set search_path = ''
as $$
declare
  v_at timestamptz := p_at;
  v_local timestamp;
  v_end timestamp;
  v_next timestamptz;
begin
  if p_timezone is null or p_start is null or p_end is null then
    return p_at;
  end if;
  -- One round almost always. Another only when the end of the window is itself quiet: when the
  -- allowed hours of a day fall entirely into a spring-forward gap (the next day's end then).
  for i in 1..3 loop
    v_local := v_at at time zone p_timezone;
    if not private.in_quiet_hours(v_local::time, p_start, p_end) then
      return v_at;
    end if;
    -- The window ends today if it has not yet, else tomorrow.
    v_end := (v_local::date + case when v_local::time < p_end then 0 else 1 end) + p_end;
    v_next := private.local_instant(v_end, p_timezone);
    if v_next <= v_at then
      -- An end in a fall-back overlap whose first occurrence has passed (we are in the repeated
      -- hour): its second occurrence, which is what PostgreSQL's own conversion gives.
      v_next := v_end at time zone p_timezone;
    end if;
    v_at := v_next;
  end loop;
  return v_at;
end
$$;

-- When a rule sends for a reservation, quiet hours applied. Timed rules without a time of day
-- send at check-in time (arrival-related) or check-out time (after departure). Event rules
-- (booking_confirmed, booking_cancelled) send at p_now, or at the next occurrence of their time
-- of day when they have one.
create function private.rule_send_at(
  p_trigger public.automation_trigger,
  p_offset_days integer,
  p_send_at_local time,
  p_arrival date,
  p_departure date,
  p_property public.properties,
  p_now timestamptz
) returns timestamptz
language plpgsql stable
set search_path = ''
as $$
declare
  v_at timestamptz;
begin
  v_at := case p_trigger
    when 'before_arrival' then private.local_instant(
      (p_arrival - p_offset_days) + coalesce(p_send_at_local, p_property.check_in_time), p_property.timezone)
    when 'arrival_day' then private.local_instant(
      p_arrival + coalesce(p_send_at_local, p_property.check_in_time), p_property.timezone)
    when 'after_departure' then private.local_instant(
      (p_departure + p_offset_days) + coalesce(p_send_at_local, p_property.check_out_time), p_property.timezone)
    else p_now
  end;
  if p_trigger in ('booking_confirmed', 'booking_cancelled') and p_send_at_local is not null then
    -- The next time the clock shows that time of day.
    v_at := private.local_instant((p_now at time zone p_property.timezone)::date + p_send_at_local, p_property.timezone);
    if v_at < p_now then
      v_at := private.local_instant(
        ((p_now at time zone p_property.timezone)::date + 1) + p_send_at_local, p_property.timezone);
    end if;
  end if;
  return private.after_quiet_hours(v_at, p_property.timezone, p_property.quiet_hours_start, p_property.quiet_hours_end);
end
$$;

-- ============================================================================================
-- Templates: choice of language and rendering
-- ============================================================================================

-- The template a guest gets: in the guest's language if there is one, else the tenant's default
-- language, else English, else any language of that key (alphabetically, to be deterministic).
create function private.choose_template(
  p_tenant_id uuid,
  p_key text,
  p_guest_language text,
  p_default_language text
) returns public.message_templates
language plpgsql stable
set search_path = ''
as $$
declare
  v_template public.message_templates;
begin
  select t.* into v_template
  from public.message_templates t
  where t.tenant_id = p_tenant_id and t.key = p_key
  order by coalesce(t.language = p_guest_language, false) desc,
           coalesce(t.language = p_default_language, false) desc,
           t.language = 'en' desc,
           t.language
  limit 1;
  return v_template;
end
$$;

-- The values of every placeholder in private.template_placeholders(). Dates are ISO
-- (yyyy-mm-dd), times HH:MI; a missing guest name renders as an empty string.
create function private.message_vars(
  p_reservation public.reservations,
  p_property public.properties,
  p_guest public.guests
) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'guest_name', btrim(p_guest.full_name),
    -- "Ada Lovelace" and "Lovelace, Ada" both greet Ada.
    'guest_first_name', nullif(split_part(btrim(case
        when p_guest.full_name like '%,%' then split_part(p_guest.full_name, ',', 2)
        else p_guest.full_name end), ' ', 1), ''),
    'property_name', p_property.name,
    'arrival_date', to_char(p_reservation.arrival_date, 'YYYY-MM-DD'),
    'departure_date', to_char(p_reservation.departure_date, 'YYYY-MM-DD'),
    'check_in_time', to_char(p_property.check_in_time, 'HH24:MI'),
    'check_out_time', to_char(p_property.check_out_time, 'HH24:MI'),
    'nights', (p_reservation.departure_date - p_reservation.arrival_date)::text,
    -- The id the guest knows: the PMS's, not ours.
    'reservation_id', p_reservation.pms_reservation_id
  );
end
$$;

-- Replaces each {{ placeholder }} with its value in one pass, so a value that itself looks like
-- a placeholder (a guest name is untrusted input) is never expanded.
create function private.render_template(p_body text, p_vars jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_text text;
begin
  select coalesce(string_agg(s.piece || coalesce(p_vars ->> k.m[1], ''), '' order by s.n), '') into v_text
  from regexp_split_to_table(p_body, '\{\{\s*[a-z_]+\s*\}\}') with ordinality as s (piece, n)
  left join regexp_matches(p_body, '\{\{\s*([a-z_]+)\s*\}\}', 'g') with ordinality as k (m, n)
    on k.n = s.n;
  return v_text;
end
$$;

-- ============================================================================================
-- The planner
-- ============================================================================================

-- Plans the messages of these reservations: one row per (reservation, applicable active rule),
-- created when missing (only if it will be sent or says why not), updated where anything
-- changed while not sent yet; pending rows of rules that no longer apply are cancelled. Rows
-- that are sending, sent, delivered, read or dead are never touched. Re-running it without a
-- change in the data writes nothing.
--   p_created:       the reservations were just created (booking confirmations are due)
--   p_cancel_notice: the reservations just became cancelled (cancellation notices are due)
--   p_carry_ids:     stamp changed rows with the reservation's last request and job id (false
--                    when the change came from elsewhere, e.g. a guest's phone number)
--   p_rule_ids:      only these rules' messages (a rule or template edit); null: all rules
--   p_create:        false: only change rows that exist (no foreign-key checks, so no locks on
--                    reservations: what a guest edit needs, see plan_guest_messages)
-- Only rows that change are written, and every writer here locks message rows in id order, so
-- an unchanged plan takes no lock and two planners never deadlock on each other's rows.
create function private.plan_messages(
  p_reservation_ids uuid[],
  p_created boolean default false,
  p_cancel_notice boolean default false,
  p_carry_ids boolean default true,
  p_rule_ids uuid[] default null,
  p_create boolean default true
) returns void
language plpgsql
set search_path = ''
-- These statements touch a handful of rows; JIT compilation would cost seconds more than it saves.
set jit = off
-- Planned for the actual reservation ids each time: a generic plan made while the tables were
-- small (a new database, a first sync) would otherwise stay in use and scan whole tenants.
set plan_cache_mode = force_custom_plan
as $$
begin
  -- Materialized: inlined, every later reference would compute the send time and the reasons again.
  with pairs as materialized (
    select r, p, g, t.default_language, a.id as rule_id, a.trigger, a.template_key,
           r.id::text || ':' || a.id::text as dedupe_key,
           a.trigger in ('booking_confirmed', 'booking_cancelled') as is_event,
           private.rule_send_at(a.trigger, a.offset_days, a.send_at_local, r.arrival_date,
                                r.departure_date, p, now()) as planned_at,
           (now() at time zone p.timezone)::date as local_today
    from public.reservations r
    join public.properties p on p.tenant_id = r.tenant_id and p.id = r.property_id
    join public.tenants t on t.id = r.tenant_id
    left join public.guests g on g.tenant_id = r.tenant_id and g.id = r.guest_id
    join public.automation_rules a
      on a.tenant_id = r.tenant_id and a.is_active
     and (a.property_id is null or a.property_id = r.property_id)
    where r.id = any (p_reservation_ids)
      and (p_rule_ids is null or a.id = any (p_rule_ids))
  ),
  present as (
    select pr.*, ex as existing, ex.id as existing_id, ex.status as existing_status, ex.scheduled_for as existing_at,
           ex.next_attempt_at as existing_next, ex.attempts as existing_attempts,
           ex.last_error as existing_error,
           coalesce(ex.status in ('scheduled', 'queued', 'failed'), false) as is_pending,
           tpl.language as tpl_language, tpl.body as tpl_body
    from pairs pr
    left join public.message_logs ex on ex.tenant_id = (pr.r).tenant_id and ex.dedupe_key = pr.dedupe_key
    left join lateral private.choose_template(
      (pr.r).tenant_id, pr.template_key, (pr.g).language, pr.default_language) tpl on true
    -- Event rules create their row only when their event happens; existing rows always follow.
    where ex.id is not null
       or not pr.is_event
       or (pr.trigger = 'booking_confirmed' and p_created)
       or (pr.trigger = 'booking_cancelled' and p_cancel_notice)
  ),
  timed as (
    -- A pending event message keeps the time it was planned for; everything else is recomputed
    -- (deterministic for timed rules, so an unchanged reservation plans the same instant).
    select c.*,
           case when c.is_event and c.is_pending then c.existing_at else c.planned_at end as send_at
    from present c
  ),
  judged as materialized (
    select tm.*,
      case
        when (tm.r).status = 'no_show' then 'reservation is a no-show'
        when tm.trigger = 'booking_cancelled' and (tm.r).status <> 'cancelled'
          then 'reservation is no longer cancelled'
        when tm.trigger <> 'booking_cancelled' and (tm.r).status = 'cancelled' then 'reservation was cancelled'
      end as cancel_reason,
      case
        when (tm.g).id is null or (tm.g).phone_e164 is null then 'guest has no phone number'
        when not (tm.g).whatsapp_opt_in then 'guest opted out of WhatsApp messages'
        when tm.tpl_body is null then format('no message template "%s" in any language', tm.template_key)
        when tm.is_event and ((tm.r).status = 'checked_out' or tm.local_today > (tm.r).departure_date)
          then 'the stay is already over'
        -- A row already waiting for this very instant is due, not late (e.g. a paused tenant).
        when tm.send_at < now() and not (tm.is_pending and tm.send_at = tm.existing_at)
          then format('send time %s %s had already passed when it was planned',
                      to_char(tm.send_at at time zone (tm.p).timezone, 'YYYY-MM-DD HH24:MI'), (tm.p).timezone)
      end as skip_reason
    from timed tm
  ),
  decided as (
    select j.*,
      case
        when j.cancel_reason is not null then 'cancelled'
        -- An opt-out cancels what was planned; only new rows are "skipped" for it.
        when j.skip_reason = 'guest opted out of WhatsApp messages' and (j.is_pending or j.existing_status = 'cancelled')
          then 'cancelled'
        when j.skip_reason is not null then 'skipped'
        when j.is_pending and j.send_at = j.existing_at then j.existing_status::text
        else 'scheduled'
      end::public.message_status as new_status,
      j.is_pending and j.send_at = j.existing_at
        and j.cancel_reason is null and j.skip_reason is null as keeps_schedule,
      -- An event message that is not going out keeps its time (now() would change it each run).
      case when j.is_event and j.existing_id is not null
                and (j.cancel_reason is not null or j.skip_reason is not null)
           then j.existing_at else j.send_at end as final_at
    from judged j
  ),
  planned as materialized (
    select (d.r).tenant_id, (d.r).id as reservation_id, d.rule_id, d.dedupe_key, (d.r).guest_id,
           d.template_key, d.tpl_language as language, (d.g).phone_e164 as to_phone,
           case when d.tpl_body is not null
             then private.render_template(d.tpl_body, private.message_vars(d.r, d.p, d.g)) end as body,
           d.new_status as status,
           d.final_at as scheduled_for,
           -- Scheduled rows are claimed at their time; a pending row keeps its retry time.
           case when d.keeps_schedule then d.existing_next else d.final_at end as next_attempt_at,
           case when d.new_status = 'scheduled' and not d.keeps_schedule then 0
                else coalesce(d.existing_attempts, 0) end as attempts,
           case when d.keeps_schedule then d.existing_error
                else coalesce(d.cancel_reason, d.skip_reason) end as last_error,
           (d.r).last_request_id as request_id,
           (d.r).last_job_id as job_id,
           d.existing_id,
           d.existing
    from decided d
  ),
  -- Planned rows whose rule was deactivated, deleted (rule_id set null) or now belongs to
  -- another property. In the same statement as the plan, so both see the same rules: a row is
  -- never changed twice in one transaction (that would check its foreign keys again, and the
  -- check could wait for a reservation the worker holds).
  doomed as (
    update public.message_logs dm
    set status = 'cancelled',
        last_error = 'the automation rule no longer applies to this reservation',
        request_id = case when p_carry_ids then coalesce(dr.last_request_id, dm.request_id) else dm.request_id end,
        job_id = case when p_carry_ids then coalesce(dr.last_job_id, dm.job_id) else dm.job_id end
    from (
      select x.id
      from public.message_logs x
      join public.reservations r on r.id = x.reservation_id
      -- By reservation alone (ids are unique): with the tenant as well, a planner without
      -- statistics may pick a tenant-wide index.
      where x.reservation_id = any (p_reservation_ids)
        and x.dedupe_key like r.id::text || ':%'
        and (p_rule_ids is null or x.rule_id = any (p_rule_ids))
        and x.status in ('scheduled', 'queued', 'failed')
        and not exists (
          select 1 from public.automation_rules a
          where a.tenant_id = r.tenant_id and a.id = x.rule_id and a.is_active
            and (a.property_id is null or a.property_id = r.property_id)
        )
      order by x.id
      for update of x
    ) d, public.reservations dr
    where dm.id = d.id and dr.id = dm.reservation_id
    returning dm.id
  )
  insert into public.message_logs as m (
    tenant_id, reservation_id, rule_id, dedupe_key, guest_id, template_key, language, to_phone, body,
    status, scheduled_for, next_attempt_at, attempts, last_error, request_id, job_id)
  select pl.tenant_id, pl.reservation_id, pl.rule_id, pl.dedupe_key, pl.guest_id, pl.template_key,
         pl.language, pl.to_phone, pl.body, pl.status, pl.scheduled_for, pl.next_attempt_at,
         pl.attempts, pl.last_error, pl.request_id, pl.job_id
  from planned pl
  where case
    -- Nothing to cancel in a row never planned: new rows only when they go out or say why not.
    when pl.existing_id is null then p_create and pl.status in ('scheduled', 'skipped')
    -- Rows being sent or sent are not ours; rows that would not change are not written.
    else (pl.existing).status in ('scheduled', 'queued', 'failed', 'cancelled', 'skipped')
      and (pl.guest_id, pl.rule_id, pl.template_key, pl.language, pl.to_phone, pl.body, pl.status,
           pl.scheduled_for, pl.next_attempt_at, pl.attempts, pl.last_error)
          is distinct from
          ((pl.existing).guest_id, (pl.existing).rule_id, (pl.existing).template_key,
           (pl.existing).language, (pl.existing).to_phone, (pl.existing).body, (pl.existing).status,
           (pl.existing).scheduled_for, (pl.existing).next_attempt_at, (pl.existing).attempts,
           (pl.existing).last_error)
  end
  order by pl.existing_id nulls last, pl.dedupe_key
  -- The same guards again, for a row another transaction changed meanwhile.
  on conflict (tenant_id, dedupe_key) do update
  set guest_id = excluded.guest_id,
      rule_id = excluded.rule_id,
      template_key = excluded.template_key,
      language = excluded.language,
      to_phone = excluded.to_phone,
      body = excluded.body,
      status = excluded.status,
      scheduled_for = excluded.scheduled_for,
      next_attempt_at = excluded.next_attempt_at,
      attempts = excluded.attempts,
      last_error = excluded.last_error,
      request_id = case when p_carry_ids then coalesce(excluded.request_id, m.request_id) else m.request_id end,
      job_id = case when p_carry_ids then coalesce(excluded.job_id, m.job_id) else m.job_id end
  where m.status in ('scheduled', 'queued', 'failed', 'cancelled', 'skipped')
    and (m.guest_id, m.rule_id, m.template_key, m.language, m.to_phone, m.body, m.status,
         m.scheduled_for, m.next_attempt_at, m.attempts, m.last_error)
        is distinct from
        (excluded.guest_id, excluded.rule_id, excluded.template_key, excluded.language,
         excluded.to_phone, excluded.body, excluded.status, excluded.scheduled_for,
         excluded.next_attempt_at, excluded.attempts, excluded.last_error);
end
$$;

-- ============================================================================================
-- Triggers
-- ============================================================================================
-- Security definer: an admin editing a reservation through PostgREST cannot write message_logs
-- or read other helpers; the planning runs as the owner, for that one reservation.

create function private.plan_reservation_messages() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.plan_messages(
    array[new.id],
    tg_op = 'INSERT',
    tg_op = 'UPDATE' and new.status = 'cancelled' and old.status <> 'cancelled',
    true);
  return null;
end
$$;

create trigger reservations_plan_messages_insert after insert on public.reservations
for each row execute function private.plan_reservation_messages();

-- Only a change of what planning depends on re-plans (not e.g. a new pms_updated_at alone).
create trigger reservations_plan_messages_update
after update of status, arrival_date, departure_date, property_id, guest_id on public.reservations
for each row
when ((old.status, old.arrival_date, old.departure_date, old.property_id, old.guest_id)
      is distinct from (new.status, new.arrival_date, new.departure_date, new.property_id, new.guest_id))
execute function private.plan_reservation_messages();

-- Opting out cancels every message of the guest not sent yet (planned or written by hand). Any
-- change that matters (opting out or back in, a phone number added, fixed or removed, a new name
-- or language) re-plans the guest's reservations, so rows skipped for a missing phone come back,
-- reasons stay true and previews stay current.
--
-- Locks: the worker's upsert_reservation_v1 locks a reservation, then its guest; this runs with
-- the guest locked. So it must not wait for a reservation: it changes existing rows only (a new
-- row's foreign key check would wait), and each row once (a row changed twice in a transaction
-- has its foreign keys checked again); planned rows are cancelled by the planner itself.
create function private.plan_guest_messages() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if old.whatsapp_opt_in and not new.whatsapp_opt_in then
    -- Messages written by hand, outside any plan.
    update public.message_logs m
    set status = 'cancelled', last_error = 'guest opted out of WhatsApp messages'
    from (
      select x.id from public.message_logs x
      where x.tenant_id = new.tenant_id and x.guest_id = new.id and x.reservation_id is null
        and x.status in ('scheduled', 'queued', 'failed')
      order by x.id
      for update
    ) w
    where m.id = w.id;
  end if;
  perform private.plan_messages(
    array(select r.id from public.reservations r where r.tenant_id = new.tenant_id and r.guest_id = new.id),
    false, false, false, null, false);
  return null;
end
$$;

create trigger guests_plan_messages
after update of whatsapp_opt_in, phone_e164, full_name, language on public.guests
for each row
when ((old.whatsapp_opt_in, old.phone_e164, old.full_name, old.language)
      is distinct from (new.whatsapp_opt_in, new.phone_e164, new.full_name, new.language))
execute function private.plan_guest_messages();

-- Changes to what a plan is made of (rules, templates, the property's times and timezone) re-plan
-- the reservations they can still affect: those not over yet, and those with messages waiting.
-- Past stays are left alone, so editing a rule never floods the log with "too late" rows.
-- They are key-share locked in id order, before any message row: planning may create rows, whose
-- foreign key check would otherwise wait for a reservation the worker holds while it waits for a
-- message row held here.
create function private.reservations_to_replan(p_tenant_id uuid, p_property_id uuid, p_since date)
returns uuid[]
language sql
set search_path = ''
as $$
  select array(
    select r.id from public.reservations r
    where r.tenant_id = p_tenant_id
      and (p_property_id is null or r.property_id = p_property_id)
      and (r.departure_date >= p_since
           or exists (
             select 1 from public.message_logs m
             where m.reservation_id = r.id and m.status in ('scheduled', 'queued', 'failed')))
    order by r.id
    for key share of r
  )
$$;

-- A rule switched off or deleted cancels its messages not sent yet; a rule added or changed
-- plans (or moves) its messages for current and coming stays. It never sends booking
-- confirmations or cancellation notices for events that happened before it existed.
create function private.plan_rule_messages() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' or not new.is_active then
    update public.message_logs m
    set status = 'cancelled', last_error = 'the automation rule was removed or deactivated'
    from (
      select x.id from public.message_logs x
      where x.tenant_id = old.tenant_id and x.rule_id = old.id and x.status in ('scheduled', 'queued', 'failed')
      order by x.id
      for update
    ) w
    where m.id = w.id;
    return old;  -- lets the delete go ahead (ignored after an update)
  end if;
  perform private.plan_messages(
    private.reservations_to_replan(new.tenant_id, null,
      -- After-departure rules still reach stays that ended up to offset_days ago.
      current_date - 1 - greatest(new.offset_days, coalesce(old.offset_days, 0))),
    false, false, false, array[new.id]);
  return null;
end
$$;

-- Before delete: afterwards the foreign key has already cleared rule_id on the messages.
create trigger automation_rules_plan_messages_delete before delete on public.automation_rules
for each row execute function private.plan_rule_messages();

create trigger automation_rules_plan_messages_insert after insert on public.automation_rules
for each row execute function private.plan_rule_messages();

create trigger automation_rules_plan_messages_update
after update of property_id, trigger, offset_days, send_at_local, template_key, is_active on public.automation_rules
for each row
when ((old.property_id, old.trigger, old.offset_days, old.send_at_local, old.template_key, old.is_active)
      is distinct from (new.property_id, new.trigger, new.offset_days, new.send_at_local, new.template_key, new.is_active))
execute function private.plan_rule_messages();

-- A new, changed or deleted template: rows waiting for that key get the new text (or another
-- language), and rows skipped for want of a template come back while their time is ahead.
create function private.plan_template_messages() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_tenant_id uuid := coalesce(new.tenant_id, old.tenant_id);
begin
  perform private.plan_messages(
    array(
      select distinct m.reservation_id from public.message_logs m
      where m.tenant_id = v_tenant_id
        and m.template_key in (new.key, old.key)
        and m.reservation_id is not null
        and (m.status in ('scheduled', 'queued', 'failed') or (m.status = 'skipped' and m.scheduled_for > now()))),
    false, false, false,
    array(select a.id from public.automation_rules a
          where a.tenant_id = v_tenant_id and a.template_key in (new.key, old.key)),
    false);
  return null;
end
$$;

create trigger message_templates_plan_messages
after insert or delete or update of key, language, body on public.message_templates
for each row execute function private.plan_template_messages();

-- A property's timezone, times or quiet hours moved: its coming messages move with them.
create function private.plan_property_messages() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.plan_messages(
    private.reservations_to_replan(new.tenant_id, new.id, current_date - 1), false, false, false, null, false);
  return null;
end
$$;

create trigger properties_plan_messages
after update of name, timezone, check_in_time, check_out_time, quiet_hours_start, quiet_hours_end
on public.properties
for each row
when ((old.name, old.timezone, old.check_in_time, old.check_out_time, old.quiet_hours_start, old.quiet_hours_end)
      is distinct from
      (new.name, new.timezone, new.check_in_time, new.check_out_time, new.quiet_hours_start, new.quiet_hours_end))
execute function private.plan_property_messages();

-- ============================================================================================
-- Service API (the worker)
-- ============================================================================================

-- Called by the worker right after claiming messages (claim_messages_v*), for the rows it holds.
-- Returns the messages to send now, rendered with the guest's current name, phone and language,
-- and settles the others without sending:
--   cancelled  reservation cancelled or no-show, rule removed or deactivated, guest opted out
--   skipped    guest has no phone number, no template for the key, the moment has passed (the
--              guest already arrived, the stay is over)
--   dead       the rendered message is empty
--   queued     it is quiet hours at the property now: back at the end of the quiet window, the
--              attempt not counted
-- Rows without a reservation (sent by hand) go out with their stored phone and body.
create function public.prepare_messages_v1(p_ids bigint[], p_worker text)
returns table (id bigint, to_phone text, body text, language text)
language plpgsql
rows 100
set search_path = ''
-- A batch is a hundred rows; JIT compilation would cost more than it saves.
set jit = off
as $$
begin
  return query
  -- Materialized: inlined, every later reference would render the message again.
  with facts as materialized (
    select m.id, m.to_phone as stored_phone, m.body as stored_body,
           -- Planned by the rules (vs. a message written by hand).
           coalesce(m.dedupe_key like m.reservation_id::text || ':%', false) as planned,
           r.status as reservation_status, a.trigger, coalesce(a.is_active, false) as rule_active,
           r.arrival_date, r.departure_date,
           g.id as guest_id, g.phone_e164, g.whatsapp_opt_in,
           (now() at time zone p.timezone)::date as local_today,
           private.after_quiet_hours(now(), p.timezone, p.quiet_hours_start, p.quiet_hours_end) as allowed_at,
           tpl.language as tpl_language,
           case when tpl.body is not null
             then private.render_template(tpl.body, private.message_vars(r, p, g)) end as rendered
    from public.message_logs m
    left join public.reservations r on r.tenant_id = m.tenant_id and r.id = m.reservation_id
    left join public.properties p on p.tenant_id = r.tenant_id and p.id = r.property_id
    left join public.tenants t on t.id = m.tenant_id
    left join public.guests g on g.tenant_id = m.tenant_id and g.id = coalesce(r.guest_id, m.guest_id)
    left join public.automation_rules a on a.tenant_id = m.tenant_id and a.id = m.rule_id
    left join lateral private.choose_template(m.tenant_id, m.template_key, g.language, t.default_language) tpl
      on m.reservation_id is not null
    where m.id = any (p_ids) and m.status = 'sending' and m.lease_owner = p_worker
  ),
  verdicts as materialized (
    select f.id, f.planned,
           case when f.planned then f.phone_e164 else coalesce(f.phone_e164, f.stored_phone) end as phone,
           case when f.planned then f.rendered else f.stored_body end as text,
           f.tpl_language,
           -- 'status:reason' for a message that must not go out, else null.
           case
             when f.planned and f.reservation_status = 'no_show' then 'cancelled:reservation is a no-show'
             when f.planned and not f.rule_active then 'cancelled:the automation rule was removed or deactivated'
             when f.planned and f.trigger = 'booking_cancelled' and f.reservation_status <> 'cancelled'
               then 'cancelled:reservation is no longer cancelled'
             when f.planned and f.trigger <> 'booking_cancelled' and f.reservation_status = 'cancelled'
               then 'cancelled:reservation was cancelled'
             when f.guest_id is not null and not f.whatsapp_opt_in
               then 'cancelled:guest opted out of WhatsApp messages'
             when (case when f.planned then f.phone_e164 else coalesce(f.phone_e164, f.stored_phone) end) is null
               then 'skipped:guest has no phone number'
             when f.planned and f.rendered is null then 'skipped:no message template for this key in any language'
             when f.planned and f.trigger in ('before_arrival', 'arrival_day') and f.local_today > f.arrival_date
               then 'skipped:too late: the guest has already arrived'
             when f.planned and f.trigger in ('booking_confirmed', 'booking_cancelled')
                  and (f.reservation_status = 'checked_out' or f.local_today > f.departure_date)
               then 'skipped:too late: the stay is already over'
             when btrim(coalesce(case when f.planned then f.rendered else f.stored_body end, '')) = ''
               then 'dead:the message text is empty'
           end as refusal,
           -- Quiet hours at the property right now: try again when they end.
           case when f.allowed_at > now() then f.allowed_at end as deferred_to
    from facts f
  ),
  settled as (
    update public.message_logs m
    set status = case
          when v.refusal is not null then split_part(v.refusal, ':', 1)
          when v.deferred_to is not null then 'queued'
          else 'sending'
        end::public.message_status,
        to_phone = case when v.refusal is null then v.phone else m.to_phone end,
        body = case when v.refusal is null then v.text else m.body end,
        language = case when v.refusal is null and v.planned then v.tpl_language else m.language end,
        last_error = case
          when v.refusal is not null then substr(v.refusal, strpos(v.refusal, ':') + 1)
          when v.deferred_to is not null then format('deferred: quiet hours until %s', v.deferred_to)
          else m.last_error
        end,
        next_attempt_at = coalesce(v.deferred_to, m.next_attempt_at),
        -- Not sending is no attempt: give back the one the claim counted.
        attempts = case when v.refusal is null and v.deferred_to is null then m.attempts
                        else greatest(m.attempts - 1, 0) end,
        lease_owner = case when v.refusal is null and v.deferred_to is null then m.lease_owner end,
        lease_expires_at = case when v.refusal is null and v.deferred_to is null then m.lease_expires_at end
    from verdicts v
    where m.id = v.id
    returning m.id, m.to_phone, m.body, m.language, m.status
  )
  select s.id, s.to_phone, s.body, s.language from settled s where s.status = 'sending' order by s.id;
end
$$;

-- Opts a guest out after they asked to stop (the worker recognises STOP and its translations).
-- The phone may carry formatting or WhatsApp's "@c.us" suffix. Returns true when a guest who was
-- opted in is now opted out; their pending messages are cancelled by the trigger on guests.
create function public.opt_out_guest_v1(p_tenant_id uuid, p_phone_e164 text, p_reason text default null)
returns boolean
language sql
set search_path = ''
as $$
  with opted_out as (
    update public.guests g
    set whatsapp_opt_in = false,
        opted_out_at = now(),
        opt_out_reason = left(coalesce(nullif(btrim(p_reason), ''), 'guest asked to stop'), 500)
    where g.tenant_id = p_tenant_id
      and g.phone_e164 = '+' || regexp_replace(split_part(p_phone_e164, '@', 1), '[^0-9]', '', 'g')
      and g.whatsapp_opt_in
    returning g.id
  )
  select exists (select 1 from opted_out)
$$;

-- ============================================================================================
-- Privileges
-- ============================================================================================
revoke all on function private.utc_offset(timestamptz, text) from public;
revoke all on function private.local_instant(timestamp, text) from public;
revoke all on function private.in_quiet_hours(time, time, time) from public;
revoke all on function private.after_quiet_hours(timestamptz, text, time, time) from public;
revoke all on function private.rule_send_at(public.automation_trigger, integer, time, date, date, public.properties, timestamptz) from public;
revoke all on function private.choose_template(uuid, text, text, text) from public;
revoke all on function private.message_vars(public.reservations, public.properties, public.guests) from public;
revoke all on function private.render_template(text, jsonb) from public;
revoke all on function private.plan_messages(uuid[], boolean, boolean, boolean, uuid[], boolean) from public;
revoke all on function private.plan_reservation_messages() from public;
revoke all on function private.plan_guest_messages() from public;
revoke all on function private.reservations_to_replan(uuid, uuid, date) from public;
revoke all on function private.plan_rule_messages() from public;
revoke all on function private.plan_template_messages() from public;
revoke all on function private.plan_property_messages() from public;

-- The worker's prepare_messages_v1 runs as service_role and uses the helpers.
grant execute on function private.utc_offset(timestamptz, text) to service_role;
grant execute on function private.local_instant(timestamp, text) to service_role;
grant execute on function private.in_quiet_hours(time, time, time) to service_role;
grant execute on function private.after_quiet_hours(timestamptz, text, time, time) to service_role;
grant execute on function private.rule_send_at(public.automation_trigger, integer, time, date, date, public.properties, timestamptz) to service_role;
grant execute on function private.choose_template(uuid, text, text, text) to service_role;
grant execute on function private.message_vars(public.reservations, public.properties, public.guests) to service_role;
grant execute on function private.render_template(text, jsonb) to service_role;

revoke all on function public.prepare_messages_v1(bigint[], text) from public, anon, authenticated;
revoke all on function public.opt_out_guest_v1(uuid, text, text) from public, anon, authenticated;
grant execute on function public.prepare_messages_v1(bigint[], text) to service_role;
grant execute on function public.opt_out_guest_v1(uuid, text, text) to service_role;
