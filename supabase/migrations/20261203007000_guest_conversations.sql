-- Guest conversations (issue 15): each guest's WhatsApp thread, the hotel's inbox.
--
-- conversations          one per (tenant, WAHA session, guest chat); guest link nullable for a
--                        number that is no guest of any reservation
-- conversation_messages  the thread: the guest's messages, our automated sends and staff replies
--                        (linked to message_logs, the one send queue), and what the hotel wrote
--                        on the phone. WAHA's message id is unique per session, so a webhook
--                        retry or a replay adds nothing. Media is described, never stored.
-- conversation_notes     internal notes the guest never sees
-- conversation_reads     each member's read marker (unread counts are per member)
--
-- Members read them under RLS; every write goes through the RPCs (20261203007100) or the back
-- end. The contract the dashboard relies on: docs/inbox-contract.md.

-- ============================================================================================
-- Settings
-- ============================================================================================
alter table public.tenants
  add column guest_opt_in_by_message boolean not null default false;

comment on column public.tenants.guest_opt_in_by_message is
  'a guest who opted out may opt back in by writing START (or an equivalent in their language)';

-- ============================================================================================
-- Tables
-- ============================================================================================
create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  property_id uuid,
  waha_session text not null check (length(waha_session) between 1 and 64),
  chat_id text not null check (length(chat_id) between 3 and 200),
  phone_e164 text check (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  guest_id uuid,
  contact_name text check (length(contact_name) <= 300),
  status text not null default 'open' check (status in ('open', 'closed')),
  assignee_id uuid references auth.users (id) on delete set null,
  last_message_at timestamptz not null default now(),
  last_message_preview text check (length(last_message_preview) <= 200),
  last_inbound_at timestamptz,
  detected_language text check (detected_language ~ '^[a-z]{2}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  unique (tenant_id, waha_session, chat_id),
  foreign key (tenant_id, guest_id) references public.guests (tenant_id, id) on delete set null (guest_id),
  foreign key (tenant_id, property_id) references public.properties (tenant_id, id) on delete set null (property_id)
);

create index conversations_inbox_idx on public.conversations (tenant_id, status, last_message_at desc);
create index conversations_property_idx on public.conversations (tenant_id, property_id, last_message_at desc);
create index conversations_guest_idx on public.conversations (tenant_id, guest_id) where guest_id is not null;
create index conversations_phone_idx on public.conversations (tenant_id, phone_e164) where phone_e164 is not null;
create index conversations_assignee_idx on public.conversations (tenant_id, assignee_id) where assignee_id is not null;
create index conversations_contact_name_trgm_idx on public.conversations
  using gin (contact_name extensions.gin_trgm_ops);
create index conversations_phone_trgm_idx on public.conversations using gin (phone_e164 extensions.gin_trgm_ops);

create table public.conversation_messages (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  sender text not null check (sender in ('guest', 'automation', 'staff', 'phone')),
  sent_by uuid references auth.users (id) on delete set null,
  message_log_id bigint references public.message_logs (id) on delete set null,
  delivery_status public.message_status,
  last_error text,
  waha_message_id text check (length(waha_message_id) between 1 and 300),
  -- The WhatsApp key of the message: WAHA names one message `<fromMe>_<chat>_<key>` in events and
  -- some engines answer sendText with the bare key; both forms are one message.
  waha_key text generated always as (
    case when waha_message_id ~ '^(true|false)_.+_[^_]+$' then substring(waha_message_id from '_([^_]+)$')
         else waha_message_id end) stored,
  waha_session text not null check (length(waha_session) between 1 and 64),
  body text check (length(body) <= 65536),
  media_kind text check (media_kind in ('image', 'document', 'audio', 'voice', 'video', 'location', 'sticker')),
  media_mimetype text check (length(media_mimetype) <= 200),
  media_filename text check (length(media_filename) <= 500),
  media_size bigint check (media_size >= 0),
  -- WAHA's URL of the file (on the tenant's WAHA); fetched only through waha-session `media`.
  media_url text check (length(media_url) <= 2000),
  has_media_file boolean generated always as (media_url is not null) stored,
  location_latitude double precision check (location_latitude between -90 and 90),
  location_longitude double precision check (location_longitude between -180 and 180),
  location_name text check (length(location_name) <= 500),
  language text check (language ~ '^[a-z]{2}$'),
  consent_change text check (consent_change in ('opted_out', 'opted_in', 'opt_in_refused')),
  opt_out_override_reason text check (length(opt_out_override_reason) between 1 and 500),
  sent_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  foreign key (tenant_id, conversation_id) references public.conversations (tenant_id, id) on delete cascade,
  check ((direction = 'inbound') = (sender = 'guest')),
  check (sender = 'staff' or sent_by is null)
);

-- Stored once: a webhook retry or replay of the same WAHA message adds nothing.
create unique index conversation_messages_waha_key_idx on public.conversation_messages (tenant_id, waha_session, waha_key)
where waha_key is not null;
create unique index conversation_messages_message_log_idx on public.conversation_messages (message_log_id)
where message_log_id is not null;
create index conversation_messages_thread_idx on public.conversation_messages (conversation_id, sent_at, id);
create index conversation_messages_inbound_idx on public.conversation_messages (conversation_id, id)
where direction = 'inbound';
create index conversation_messages_tenant_idx on public.conversation_messages (tenant_id, created_at desc);
create index conversation_messages_body_trgm_idx on public.conversation_messages
  using gin (body extensions.gin_trgm_ops);

create table public.conversation_notes (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null,
  author_id uuid references auth.users (id) on delete set null,
  body text not null check (length(btrim(body)) between 1 and 4000),
  created_at timestamptz not null default now(),
  foreign key (tenant_id, conversation_id) references public.conversations (tenant_id, id) on delete cascade
);

create index conversation_notes_thread_idx on public.conversation_notes (conversation_id, created_at);

create table public.conversation_reads (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  last_read_message_id bigint not null default 0,
  read_at timestamptz not null default now(),
  primary key (conversation_id, user_id),
  foreign key (tenant_id, conversation_id) references public.conversations (tenant_id, id) on delete cascade
);

create index conversation_reads_user_idx on public.conversation_reads (user_id, tenant_id);

-- ============================================================================================
-- The send queue learns about replies
-- ============================================================================================
-- priority 1: a staff reply, claimed ahead of the session's automations (claim_messages_v6).
-- opt_out_override: a member confirmed, with a reason, a reply to a guest who opted out.
alter table public.message_logs
  add column priority smallint not null default 0,
  add column sent_by uuid references auth.users (id) on delete set null,
  add column conversation_id uuid,
  add column opt_out_override boolean not null default false,
  add constraint message_logs_priority_check check (priority in (0, 1)),
  add constraint message_logs_conversation_fkey foreign key (tenant_id, conversation_id)
    references public.conversations (tenant_id, id) on delete set null (conversation_id);

create index message_logs_tenant_priority_claimable_idx
on public.message_logs (tenant_id, priority desc, next_attempt_at, id)
where status in ('scheduled', 'queued', 'failed');
create index message_logs_conversation_idx on public.message_logs (conversation_id) where conversation_id is not null;

-- ============================================================================================
-- Triggers
-- ============================================================================================
create trigger conversations_set_updated_at before update on public.conversations
for each row execute function private.set_updated_at();
create trigger conversations_forbid_tenant_change before update on public.conversations
for each row execute function private.forbid_tenant_change();
create trigger conversation_messages_forbid_tenant_change before update on public.conversation_messages
for each row execute function private.forbid_tenant_change();

-- ============================================================================================
-- Privileges and RLS
-- ============================================================================================
alter table public.conversations enable row level security;
alter table public.conversation_messages enable row level security;
alter table public.conversation_notes enable row level security;
alter table public.conversation_reads enable row level security;

revoke all on public.conversations, public.conversation_messages, public.conversation_notes,
  public.conversation_reads from anon, authenticated;
grant all on public.conversations, public.conversation_messages, public.conversation_notes,
  public.conversation_reads to service_role;
grant select on public.conversations, public.conversation_messages, public.conversation_notes,
  public.conversation_reads to authenticated;

create policy "Conversations are visible to members of their tenant"
on public.conversations for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Conversation messages are visible to members of their tenant"
on public.conversation_messages for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Conversation notes are visible to members of their tenant"
on public.conversation_notes for select to authenticated
using (tenant_id in (select private.tenant_ids_for()));

create policy "Read markers are visible to the member they belong to"
on public.conversation_reads for select to authenticated
using (user_id = (select auth.uid()) and tenant_id in (select private.tenant_ids_for()));

-- Live inbox: postgres_changes applies the select policies above to each subscriber.
alter publication supabase_realtime add table public.conversations;
alter publication supabase_realtime add table public.conversation_messages;
alter publication supabase_realtime add table public.conversation_notes;
