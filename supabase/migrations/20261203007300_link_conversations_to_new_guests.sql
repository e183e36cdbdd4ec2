-- A conversation that started from an unknown number is linked to the guest as soon as a guest
-- with that phone number appears (the PMS brings the booking after the guest wrote), or a
-- guest's number is corrected to it. A conversation staff already linked is left alone.

create function private.link_conversations_to_guest() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.conversations c
  set guest_id = new.id,
      property_id = coalesce(private.guest_property(new.tenant_id, new.id), c.property_id)
  where c.tenant_id = new.tenant_id and c.phone_e164 = new.phone_e164 and c.guest_id is null;
  return null;
end
$$;

create trigger guests_link_conversations after insert or update of phone_e164 on public.guests
for each row when (new.phone_e164 is not null)
execute function private.link_conversations_to_guest();

revoke all on function private.link_conversations_to_guest() from public;

-- The property a conversation counts under (inbox counts per property) follows the guest's
-- stays: a new booking, or one moved to another property, updates it.
create function private.conversation_property_from_stays() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.conversations c
  set property_id = private.guest_property(new.tenant_id, new.guest_id)
  where c.tenant_id = new.tenant_id and c.guest_id = new.guest_id
    and c.property_id is distinct from private.guest_property(new.tenant_id, new.guest_id);
  return null;
end
$$;

create trigger reservations_conversation_property
after insert or update of guest_id, property_id, arrival_date, departure_date, status on public.reservations
for each row when (new.guest_id is not null)
execute function private.conversation_property_from_stays();

revoke all on function private.conversation_property_from_stays() from public;
