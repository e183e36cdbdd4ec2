-- next_message_due_v1 ignored sessions whose pacing gap had already passed, so after a short
-- batch the worker slept a whole poll interval with messages due. A session that may send now
-- means: look again now.
create or replace function public.next_message_due_v1() returns timestamptz
language sql stable
set search_path = ''
as $$
  select least(
    (select min(m.next_attempt_at) from public.message_logs m
     where m.status in ('scheduled', 'queued', 'failed') and m.next_attempt_at > now()),
    (select min(w.next_send_at) from public.waha_configurations w
     where w.sends_paused_at is null
       and exists (
         select 1 from public.message_logs m
         where m.tenant_id = w.tenant_id and m.status in ('scheduled', 'queued', 'failed')
           and m.next_attempt_at <= now())))
$$;
