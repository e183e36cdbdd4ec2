-- Acknowledging means "someone is on it": an alert that has already resolved needs nobody, so
-- acknowledging one is refused with the reason instead of quietly stamping a closed alert.

create or replace function ops.acknowledge_alert(p_alert_id bigint, p_by text) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_alert ops.alerts;
begin
  select * into v_alert from ops.alerts a where a.id = p_alert_id for update;
  if not found then
    raise exception 'alert % not found', p_alert_id using errcode = 'no_data_found';
  end if;
  if v_alert.status = 'resolved' then
    raise exception 'alert % resolved at % (UTC): there is nothing to acknowledge', p_alert_id,
      to_char(v_alert.resolved_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')
      using errcode = 'object_not_in_prerequisite_state';
  end if;
  update ops.alerts a set acknowledged_at = now(), acknowledged_by = p_by
  where a.id = p_alert_id and a.acknowledged_at is null;
  return found;
end
$$;
