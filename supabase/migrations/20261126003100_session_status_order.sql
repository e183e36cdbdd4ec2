-- WAHA's session.status webhooks can arrive, or be worked off, out of order (STARTING after
-- WORKING), which would leave a linked session looking down and its sends paused. Each report
-- carries WAHA's own time; an older report than the one applied is ignored.

alter table public.waha_configurations
  add column status_reported_at timestamptz;

-- Applies a session status WAHA reported at p_reported_at. WORKING lifts any pause, even when
-- the stored status already was WORKING (the pause came from WAHA being unreachable). Returns
-- true when the report was applied, false when it was older than what is stored.
create function public.record_session_status_v1(
  p_tenant_id uuid,
  p_session text,
  p_status text,
  p_reported_at timestamptz
) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.waha_configurations w
  set session_status = p_status,
      status_reported_at = p_reported_at,
      sends_paused_reason = case when p_status = 'WORKING' then null else w.sends_paused_reason end,
      sends_paused_at = case when p_status = 'WORKING' then null else w.sends_paused_at end
  where w.tenant_id = p_tenant_id
    and w.session_name = p_session
    and (w.status_reported_at is null or w.status_reported_at <= p_reported_at);
  return found;
end
$$;

revoke all on function public.record_session_status_v1(uuid, text, text, timestamptz) from public, anon, authenticated;
grant execute on function public.record_session_status_v1(uuid, text, text, timestamptz) to service_role;
