-- Wake the workers through Realtime Broadcast from the database, at most one message per queue
-- per transaction that leaves work and per `min_interval`, instead of one Postgres Changes
-- message per queue row.
--
-- Hosted Realtime allows about 100 messages/s (Free) or 500/s (Pro) per project and drops the
-- rest without telling anyone. Postgres Changes sends a message for every insert and update of a
-- table in the publication (claims, sends and completions included): at 1,000 sends/s that is
-- several thousand a second, most of them lost, and the worker falls back to its poll. Even one
-- message per transaction is too many where work arrives in many small transactions: every WAHA
-- webhook (1,000 sends/s bring back at least as many message.ack webhooks) is a transaction that
-- queues an inbound event. So a transaction broadcasts only if the queue's last wake-up is at
-- least `min_interval` (100 ms) old: at most 10 messages/s per queue, 30/s for the three, at any
-- load. A transaction that stays silent because another just broadcast may commit after the
-- worker has looked; the worker looks once more shortly after each wake-up (worker/wakeup.py),
-- and its poll remains the guarantee.
--
-- The statement triggers that already NOTIFY once per statement call private.broadcast_wakeup,
-- which sends with realtime.send on the private topic worker:queues: Realtime authorises a
-- private channel by RLS on realtime.messages, so only the service role (BYPASSRLS: the worker)
-- may join it. LISTEN/NOTIFY stays for a plain PostgreSQL without Realtime.

create table private.wakeup_broadcasts (
  queue text primary key,
  last_sent_at timestamptz not null default '-infinity',
  min_interval interval not null default interval '100 milliseconds'
    check (min_interval >= interval '0')
);

comment on table private.wakeup_broadcasts is
  'When each queue last broadcast a Realtime wake-up, and how often it may (workers also poll).';

alter table private.wakeup_broadcasts enable row level security;
revoke all on table private.wakeup_broadcasts from public, anon, authenticated;

insert into private.wakeup_broadcasts (queue) values ('inbound_events'), ('message_logs'), ('sync_jobs');

create function private.broadcast_wakeup(p_queue text) returns void
language plpgsql
-- Definer: the writer may be a signed-in user (a dashboard RPC), who must not be able to send
-- to the workers' topic, nor need a policy for it.
security definer
set search_path = ''
as $$
declare
  v_row record;
begin
  -- Transaction-local: only the first statement of a transaction that leaves work looks.
  if current_setting('hotelwa.broadcast_woken_' || p_queue, true) = 'on' then
    return;
  end if;
  perform set_config('hotelwa.broadcast_woken_' || p_queue, 'on', true);
  -- SKIP LOCKED: a transaction that is broadcasting right now holds the row until it commits;
  -- the others go on without waiting (their commits must not queue behind one another).
  select b.queue into v_row
  from private.wakeup_broadcasts b
  where b.queue = p_queue and b.last_sent_at <= clock_timestamp() - b.min_interval
  for update skip locked;
  if not found then
    return;
  end if;
  update private.wakeup_broadcasts set last_sent_at = clock_timestamp() where queue = p_queue;
  -- Never fails the caller: realtime.send turns its own errors into a warning.
  perform realtime.send(jsonb_build_object('queue', p_queue), 'wake', 'worker:queues', true);
end
$$;

revoke all on function private.broadcast_wakeup(text) from public, anon, authenticated, service_role;

create or replace function private.notify_inbound_events() returns trigger
language plpgsql
-- Definer: the writer (the service role, a signed-in member) may not call broadcast_wakeup itself.
security definer
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
-- Definer: the writer (the service role, a signed-in member) may not call broadcast_wakeup itself.
security definer
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
-- Definer: the writer (the service role, a signed-in member) may not call broadcast_wakeup itself.
security definer
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
