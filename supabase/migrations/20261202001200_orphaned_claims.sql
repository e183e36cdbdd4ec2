-- A worker can lose track of its own claims: the claim committed but its answer never arrived
-- (the database restarted, the connection was cut), or rendering the batch failed. Those rows
-- stayed `sending`, leased to a worker that is alive - so no takeover frees them - until the
-- lease ran out, two minutes by default. The worker now hands them back itself, between two of
-- its own claims (so no claim of its own is in progress), keeping the ones it is working on.
-- They go back in doubt, like a dead worker's: the next attempt asks WAHA first.

create function public.take_back_orphaned_claims_v1(p_worker text, p_keep bigint[]) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.message_logs m
  set status = case when m.attempts >= m.max_attempts then 'dead' else 'queued' end::public.message_status,
      send_uncertain = true,
      last_error = format('claim lost by %s (attempt %s of %s)', p_worker, m.attempts, m.max_attempts),
      lease_owner = null,
      lease_expires_at = null
  from (
    select x.id from public.message_logs x
    where x.status = 'sending' and x.lease_owner = p_worker and x.id <> all (coalesce(p_keep, '{}'))
    order by x.id
    for update skip locked
  ) o
  where m.id = o.id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function public.take_back_orphaned_claims_v1(text, bigint[]) from public, anon, authenticated;
grant execute on function public.take_back_orphaned_claims_v1(text, bigint[]) to service_role;
