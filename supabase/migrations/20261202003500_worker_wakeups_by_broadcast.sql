-- Wake the workers through Realtime Broadcast from the database: one message per transaction
-- that leaves work, instead of one Postgres Changes message per queue row.
--
-- Hosted Realtime allows about 100 messages/s (Free) or 500/s (Pro) per project and drops the
-- rest without telling anyone. Postgres Changes sends a message for every insert and update of a
-- table in the publication (claims, sends and completions included): at 1,000 sends/s that is
-- several thousand a second, most of them lost, and the worker falls back to its poll. The
-- statement triggers that already NOTIFY once per statement now also call realtime.send, at most
-- once per queue per transaction, on a private channel: Realtime authorises a private channel
-- by RLS on realtime.messages, so only the service role (BYPASSRLS: the worker) may read it.
-- LISTEN/NOTIFY stays for a plain PostgreSQL without Realtime, and every worker still polls.

create function private.broadcast_wakeup(p_queue text) returns void
language plpgsql
-- Definer: the writer may be a signed-in user (a dashboard RPC), who must not be able to send
-- to the workers' topic, nor need a policy for it.
security definer
set search_path = ''
as $$
begin
  -- Transaction-local: the first statement of a transaction that leaves work sends, the rest
  -- of that transaction does not.
  if current_setting('hotelwa.broadcast_woken_' || p_queue, true) = 'on' then
    return;
  end if;
  perform set_config('hotelwa.broadcast_woken_' || p_queue, 'on', true);
  -- Never fails the caller: realtime.send turns its own errors into a warning.
  perform realtime.send(jsonb_build_object('queue', p_queue), 'wake', 'worker:queues', true);
end
$$;

revoke all on function private.broadcast_wakeup(text) from public, anon, authenticated, service_role;

create or replace function private.notify_inbound_events() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('inbound_events', '');
  perform private.broadcast_wakeup('inbound_events');
  return null;
end
$$;

create or replace function private.notify_sync_jobs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('sync_jobs', '');
  perform private.broadcast_wakeup('sync_jobs');
  return null;
end
$$;

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
    perform private.broadcast_wakeup('message_logs');
  end if;
  return null;
end
$$;

-- The workers' topic belongs to the service role. Restrictive, so that no permissive policy a
-- later feature adds on realtime.messages (tenant dashboards' own topics) opens it: a signed-in
-- user can neither join it (read) nor send fake wake-ups into it (write).
create policy worker_queues_not_for_tenants_read on realtime.messages
as restrictive for select to anon, authenticated
using (topic is distinct from 'worker:queues');

create policy worker_queues_not_for_tenants_write on realtime.messages
as restrictive for insert to anon, authenticated
with check (topic is distinct from 'worker:queues');

-- The wake-up itself is inserted by the owner of private.broadcast_wakeup (the migrations' role,
-- `postgres`). Should that role not bypass RLS, this is what lets it write to the topic.
create policy worker_queues_wakeups_from_the_database on realtime.messages
for insert to postgres
with check (topic = 'worker:queues' and extension = 'broadcast' and event = 'wake');
