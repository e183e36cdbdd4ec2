-- The Automations screen's two questions about a template body being typed: is it valid, and
-- what would a real guest read?
--
--   public.check_template(body)                 the placeholder check, exactly the one a save
--                                               applies (the trigger now calls the same function)
--   public.preview_template(reservation, body)  the body rendered for one of the hotel's
--                                               reservations by the planner's own renderer
--                                               (private.message_vars + private.render_template)
--
-- A saved template with an unknown placeholder is still refused by the trigger; its error now
-- names the placeholders in DETAIL too, so the dashboard can say which ones without parsing text.

-- ============================================================================================
-- The check, one definition
-- ============================================================================================

-- The placeholders in a body that the renderer does not know, sorted, each once.
create function private.template_unknown_placeholders(p_body text) returns text[]
language sql immutable
set search_path = ''
as $$
  select coalesce(array_agg(distinct m[1] order by m[1]), '{}')
  from regexp_matches(coalesce(p_body, ''), '\{\{\s*([^{}]*?)\s*\}\}', 'g') as m
  where not (m[1] = any (private.template_placeholders()))
$$;

-- Whether a body has a {{ or }} that is not part of a placeholder.
create function private.template_unbalanced(p_body text) returns boolean
language sql immutable
set search_path = ''
as $$
  select regexp_replace(coalesce(p_body, ''), '\{\{\s*[a-z_]+\s*\}\}', '', 'g') ~ '\{\{|\}\}'
$$;

create or replace function private.validate_template() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_unknown text[] := private.template_unknown_placeholders(new.body);
begin
  if cardinality(v_unknown) > 0 then
    raise exception 'unknown placeholder(s) in template %: %', new.key, array_to_string(v_unknown, ', ')
      using errcode = 'check_violation',
            detail = array_to_string(v_unknown, ', '),
            hint = 'allowed: ' || array_to_string(private.template_placeholders(), ', ');
  end if;
  if private.template_unbalanced(new.body) then
    raise exception 'unbalanced {{ }} in template %', new.key
      using errcode = 'check_violation', detail = 'unbalanced';
  end if;
  return new;
end
$$;

-- ============================================================================================
-- The tenant RPCs
-- ============================================================================================

-- What a save would say about this body: {"unknown": [...], "unbalanced": bool, "allowed": [...]}.
-- Takes no row, reads no table: any signed-in user may ask.
create function public.check_template(p_body text) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'unknown', to_jsonb(private.template_unknown_placeholders(p_body)),
    'unbalanced', private.template_unbalanced(p_body),
    'allowed', to_jsonb(private.template_placeholders()))
$$;

-- The body as the guest of this reservation would read it, rendered by the planner's renderer,
-- with the check's answer. When the body fails the check, "text" is null (an unknown
-- placeholder would silently render as nothing). With p_key, "language" is the language of the
-- saved template of that key the guest would get (their own, else the hotel's fallback, else
-- English, else any: private.choose_template), null when the key has no template yet.
-- Any member of the reservation's tenant may preview; any other id gets the one answer.
create function public.preview_template(p_reservation_id uuid, p_body text, p_key text default null)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_reservation public.reservations;
  v_property public.properties;
  v_guest public.guests;
  v_default_language text;
  v_unknown text[] := private.template_unknown_placeholders(p_body);
  v_unbalanced boolean := private.template_unbalanced(p_body);
  v_language text;
begin
  select r.* into v_reservation from public.reservations r where r.id = p_reservation_id;
  perform private.assert_row_access(
    v_reservation.tenant_id, '{owner,admin,staff}', 'reservation', p_reservation_id::text);
  select p.* into v_property
  from public.properties p
  where p.tenant_id = v_reservation.tenant_id and p.id = v_reservation.property_id;
  select g.* into v_guest
  from public.guests g
  where g.tenant_id = v_reservation.tenant_id and g.id = v_reservation.guest_id;
  select t.default_language into v_default_language from public.tenants t where t.id = v_reservation.tenant_id;
  if p_key is not null then
    v_language := (private.choose_template(
      v_reservation.tenant_id, p_key, v_guest.language, v_default_language)).language;
  end if;
  return jsonb_build_object(
    'text', case when cardinality(v_unknown) = 0 and not v_unbalanced
                 then private.render_template(coalesce(p_body, ''), private.message_vars(v_reservation, v_property, v_guest))
            end,
    'unknown', to_jsonb(v_unknown),
    'unbalanced', v_unbalanced,
    'allowed', to_jsonb(private.template_placeholders()),
    'guest_language', v_guest.language,
    'language', v_language);
end
$$;

revoke all on function private.template_unknown_placeholders(text) from public;
revoke all on function private.template_unbalanced(text) from public;
grant execute on function private.template_unknown_placeholders(text) to authenticated, service_role;
grant execute on function private.template_unbalanced(text) to authenticated, service_role;

revoke all on function public.check_template(text) from public, anon;
revoke all on function public.preview_template(uuid, text, text) from public, anon;
grant execute on function public.check_template(text) to authenticated;
grant execute on function public.preview_template(uuid, text, text) to authenticated;
