-- The dashboard's WhatsApp screen: the pacing between sends, set by owners and admins with
-- readable refusals, and who paused sending by hand, for every member to see.
--
-- waha_configurations is not added to the Realtime publication: claim_messages_v2 moves its
-- next_send_at on every send, so publishing it would stream one change per message to every open
-- dashboard. The screen polls it instead.

-- Pacing: a random gap in [min, max] milliseconds between two messages of the session
-- (send_pacing.sql). The table's checks keep min >= 0 and max >= min; this also caps the gap at
-- ten minutes (a larger one would leave a day's messages unsent), and says which rule was broken
-- in the detail (a code the dashboard translates) and the message (English words).
create function public.set_waha_pacing(p_tenant_id uuid, p_send_gap_min_ms integer, p_send_gap_max_ms integer)
returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin}', 'tenant', p_tenant_id::text);
  if p_send_gap_min_ms is null or p_send_gap_max_ms is null then
    raise exception 'both gaps between sends are needed' using errcode = 'invalid_parameter_value',
      detail = 'pacing_missing';
  end if;
  if p_send_gap_min_ms < 0 or p_send_gap_max_ms < 0 then
    raise exception 'a gap between sends cannot be negative' using errcode = 'invalid_parameter_value',
      detail = 'pacing_negative';
  end if;
  if p_send_gap_max_ms < p_send_gap_min_ms then
    raise exception 'the longest gap between sends must not be shorter than the shortest'
      using errcode = 'invalid_parameter_value', detail = 'pacing_max_below_min';
  end if;
  if p_send_gap_max_ms > 600000 then
    raise exception 'a gap between sends can be at most 10 minutes (600000 ms)'
      using errcode = 'invalid_parameter_value', detail = 'pacing_too_long';
  end if;
  update public.waha_configurations w
  set send_gap_min_ms = p_send_gap_min_ms, send_gap_max_ms = p_send_gap_max_ms
  where w.tenant_id = p_tenant_id;
  if not found then
    raise exception 'the tenant has no WhatsApp connection' using errcode = 'PT404';
  end if;
end
$$;

-- Who paused sending by hand, when and why: any member may see it (the reason and time are in
-- waha_configurations; the person's e-mail address is in auth.users, which members cannot read).
-- No row when sending is not held.
create function public.sending_hold(p_tenant_id uuid)
returns table (reason text, held_at timestamptz, held_by_email text)
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform private.assert_row_access(
    (select t.id from public.tenants t where t.id = p_tenant_id), '{owner,admin,staff}', 'tenant', p_tenant_id::text);
  return query
  select w.sends_held_reason, w.sends_held_at, u.email::text
  from public.waha_configurations w
  left join auth.users u on u.id = w.sends_held_by
  where w.tenant_id = p_tenant_id and w.sends_held_at is not null;
end
$$;

revoke all on function public.set_waha_pacing(uuid, integer, integer) from public, anon;
revoke all on function public.sending_hold(uuid) from public, anon;
grant execute on function public.set_waha_pacing(uuid, integer, integer) to authenticated, service_role;
grant execute on function public.sending_hold(uuid) to authenticated, service_role;
