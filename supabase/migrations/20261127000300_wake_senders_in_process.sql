-- Let the worker wake its own sender after planning messages, instead of through NOTIFY.
--
-- A transaction that sends a NOTIFY takes one cluster-wide lock at commit, so every notifying
-- commit waits for the one before it. A booking plans a confirmation that is due at once, so each
-- reservation upsert notified 'message_logs': in the processing benchmark ~40% of the worker's
-- sampled upsert time was spent waiting on that lock (pg_stat_activity: Lock/object), and with
-- more concurrency it only gets worse. The worker that plans the message can wake its own sender
-- in-process after the commit; the notification is only a speed-up (every sender also polls),
-- and any replica's claim serves the message.
--
-- upsert_reservation_v2 takes p_notify: false says "the caller wakes the senders itself", and the
-- statement triggers of message_logs then stay silent for the rest of that transaction. Every
-- other writer (dashboard, SQL, v1) keeps notifying as before.

create or replace function private.notify_message_logs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_setting('hotelwa.senders_woken_by_caller', true) = 'on' then
    return null;
  end if;
  if exists (
    select 1 from new_rows r
    where r.status in ('scheduled', 'queued', 'failed') and r.next_attempt_at <= now() + interval '1 minute'
  ) then
    perform pg_notify('message_logs', '');
  end if;
  return null;
end
$$;

create function public.upsert_reservation_v2(
  p_tenant_id uuid,
  p_reservation jsonb,
  p_request_id text default null,
  p_job_id uuid default null,
  p_notify boolean default true
) returns table (reservation_id uuid, outcome text)
language plpgsql
set search_path = ''
as $$
begin
  if not coalesce(p_notify, true) then
    -- Transaction-local: it ends with the caller's transaction.
    perform set_config('hotelwa.senders_woken_by_caller', 'on', true);
  end if;
  return query select u.reservation_id, u.outcome
    from public.upsert_reservation_v1(p_tenant_id, p_reservation, p_request_id, p_job_id) u;
end
$$;

revoke all on function public.upsert_reservation_v2(uuid, jsonb, text, uuid, boolean) from public, anon, authenticated;
grant execute on function public.upsert_reservation_v2(uuid, jsonb, text, uuid, boolean) to service_role;
