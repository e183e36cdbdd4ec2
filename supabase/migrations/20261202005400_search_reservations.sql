-- Finding a reservation: by guest name, phone number, the PMS's reservation id or arrival dates,
-- with each reservation's message timeline, a page at a time.
--
-- Security definer, with the membership check made once at the start: under RLS, PostgreSQL
-- may not evaluate a non-leakproof condition (LIKE, ILIKE, trigram matches) before the policies,
-- so no index could serve a name, phone or id search and every search read the whole table.
-- A caller who is not a member of p_tenant_id (or names a tenant that does not exist) finds
-- nothing, the same answer for both. Every search is bounded by an index on the tenant's rows,
-- so a large tenant stays far inside the Data API's 8-second statement timeout for signed-in
-- users:
--   name       guests_full_name_trgm_idx (trigram: any part of the name, any case)
--   phone      guests_phone_trgm_idx (any run of 4 or more digits of the number)
--   PMS id     reservations_tenant_pms_id_idx (case-insensitive prefix)
--   dates      reservations_tenant_arrival_idx (also the order of every result)
--   timeline   message_logs_reservation_idx

create extension if not exists pg_trgm with schema extensions;

create index guests_full_name_trgm_idx on public.guests using gin (full_name extensions.gin_trgm_ops);
create index guests_phone_trgm_idx on public.guests using gin (phone_e164 extensions.gin_trgm_ops);
create index reservations_tenant_pms_id_idx
on public.reservations (tenant_id, lower(pms_reservation_id) text_pattern_ops);
create index reservations_tenant_arrival_idx on public.reservations (tenant_id, arrival_date desc, id desc);

-- p_query matches the start of the PMS's reservation id, and the guest's name (3+ characters,
-- anywhere in it) or, when it has no letters and 4+ digits, phone number (anywhere in it; a
-- leading 0 or 00 is dropped); null lists every reservation.
-- p_arrival_from/p_arrival_to bound the arrival date (inclusive). Newest arrival first; pages of
-- p_limit (1..100) from p_offset. messages: the reservation's messages, oldest first.
create function public.search_reservations(
  p_tenant_id uuid,
  p_query text default null,
  p_arrival_from date default null,
  p_arrival_to date default null,
  p_limit integer default 25,
  p_offset integer default 0
) returns table (
  reservation_id uuid,
  property_id uuid,
  provider public.pms_provider,
  pms_reservation_id text,
  status public.reservation_status,
  arrival_date date,
  departure_date date,
  room_label text,
  guest_id uuid,
  guest_name text,
  guest_phone text,
  whatsapp_opt_in boolean,
  messages jsonb
)
language plpgsql stable security definer
set search_path = ''
-- Planned for the actual query: a generic plan cannot tell a name search from a date listing.
set plan_cache_mode = force_custom_plan
as $$
declare
  v_query text := nullif(btrim(p_query), '');
  v_like text;
  v_digits text;
  v_limit integer := least(greatest(coalesce(p_limit, 25), 1), 100);
  v_offset integer := greatest(coalesce(p_offset, 0), 0);
  v_ids uuid[];
begin
  if not private.is_service_caller()
     and p_tenant_id not in (select private.tenant_ids_for()) then
    return;
  end if;
  if v_offset > 10000 then
    raise exception 'narrow the search instead of paging past 10,000 rows' using errcode = 'invalid_parameter_value';
  end if;
  if v_query is not null then
    if length(v_query) < 2 or length(v_query) > 200 then
      raise exception 'search for 2 to 200 characters' using errcode = 'invalid_parameter_value';
    end if;
    v_like := replace(replace(replace(v_query, '\', '\\'), '%', '\%'), '_', '\_');
    -- A phone number as typed ("+49 151 1234", "0151-1234", "0049 151"): its digits, when there
    -- are 4+, without the international (00) or trunk (0) prefix that E.164 numbers do not carry.
    v_digits := regexp_replace(regexp_replace(v_query, '[^0-9]', '', 'g'), '^00?', '');
    if length(v_digits) < 4 or v_query ~ '[[:alpha:]]' then
      v_digits := null;
    end if;
  end if;

  -- The page's ids first, by one of two plans (planned with the actual values each time).
  if v_query is null then
    -- A walk down the arrival index.
    v_ids := array(
      select r.id from public.reservations r
      where r.tenant_id = p_tenant_id
        and (p_arrival_from is null or r.arrival_date >= p_arrival_from)
        and (p_arrival_to is null or r.arrival_date <= p_arrival_to)
      order by r.arrival_date desc, r.id desc
      limit v_limit offset v_offset);
  else
    -- The few reservations found, sorted. Digits only: a phone number (names have letters). The
    -- dates go into each branch, so a common name within a few days starts from the dates.
    v_ids := array(
      select h.id from (
        select r.id, r.arrival_date from public.reservations r
        where r.tenant_id = p_tenant_id and lower(r.pms_reservation_id) like lower(v_like) || '%'
          and (p_arrival_from is null or r.arrival_date >= p_arrival_from)
          and (p_arrival_to is null or r.arrival_date <= p_arrival_to)
        union
        select r.id, r.arrival_date
        from public.guests g
        join public.reservations r on r.tenant_id = g.tenant_id and r.guest_id = g.id
        where g.tenant_id = p_tenant_id and v_digits is null and length(v_query) >= 3
          and g.full_name ilike '%' || v_like || '%'
          and (p_arrival_from is null or r.arrival_date >= p_arrival_from)
          and (p_arrival_to is null or r.arrival_date <= p_arrival_to)
        union
        select r.id, r.arrival_date
        from public.guests g
        join public.reservations r on r.tenant_id = g.tenant_id and r.guest_id = g.id
        where g.tenant_id = p_tenant_id and v_digits is not null
          and g.phone_e164 like '%' || v_digits || '%'
          and (p_arrival_from is null or r.arrival_date >= p_arrival_from)
          and (p_arrival_to is null or r.arrival_date <= p_arrival_to)
      ) h
      order by h.arrival_date desc, h.id desc
      limit v_limit offset v_offset);
  end if;

  return query
  select r.id, r.property_id, r.provider, r.pms_reservation_id, r.status, r.arrival_date, r.departure_date,
         r.room_label, g.id, g.full_name, g.phone_e164, g.whatsapp_opt_in,
         coalesce((
           select jsonb_agg(jsonb_build_object(
                    'id', m.id, 'template_key', m.template_key, 'status', m.status,
                    'scheduled_for', m.scheduled_for, 'sent_at', m.sent_at,
                    'delivered_at', m.delivered_at, 'read_at', m.read_at,
                    'last_error', m.last_error, 'updated_at', m.updated_at)
                  order by m.scheduled_for, m.id)
           from public.message_logs m
           where m.reservation_id = r.id and m.tenant_id = r.tenant_id), '[]'::jsonb)
  from public.reservations r
  left join public.guests g on g.tenant_id = r.tenant_id and g.id = r.guest_id
  where r.id = any (v_ids)
  order by r.arrival_date desc, r.id desc;
end
$$;

revoke all on function public.search_reservations(uuid, text, date, date, integer, integer) from public, anon;
grant execute on function public.search_reservations(uuid, text, date, date, integer, integer)
  to authenticated, service_role;
