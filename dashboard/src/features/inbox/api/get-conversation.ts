import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import { inboxKeys } from "./keys";
import type { Conversation, GuestReservation, Note, ThreadMessage } from "./types";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// null: no such conversation in this hotel (one answer for "doesn't exist" and "not yours").
export async function getConversation(tenantId: string, id: string): Promise<Conversation | null> {
  if (!UUID.test(id)) return null;
  const { data, error } = await supabase
    .from("conversations")
    .select(
      "id, tenant_id, property_id, chat_id, phone_e164, guest_id, contact_name, status, assignee_id," +
        " detected_language, guests(full_name, phone_e164, language, whatsapp_opt_in, opted_out_at," +
        " opt_out_reason), properties(name, timezone)",
    )
    .eq("tenant_id", tenantId)
    .eq("id", id)
    .maybeSingle<Conversation>();
  if (error) throw toUserError(error);
  return data;
}

export const conversationQueryOptions = (tenantId: string, id: string) =>
  queryOptions({ queryKey: inboxKeys.conversation(tenantId, id), queryFn: () => getConversation(tenantId, id) });

export function useConversation(tenantId: string, id: string) {
  return useQuery(conversationQueryOptions(tenantId, id));
}

const MESSAGE =
  "id, direction, sender, sent_by, delivery_status, last_error, body, media_kind, media_mimetype," +
  " media_filename, media_size, has_media_file, location_latitude, location_longitude, location_name," +
  " language, consent_change, opt_out_override_reason, sent_at";

export async function getThread(tenantId: string, id: string): Promise<ThreadMessage[]> {
  const { data, error } = await supabase
    .from("conversation_messages")
    .select(MESSAGE)
    .eq("tenant_id", tenantId)
    .eq("conversation_id", id)
    .order("sent_at")
    .order("id")
    .limit(500)
    .returns<ThreadMessage[]>();
  if (error) throw toUserError(error);
  return data;
}

export function useThread(tenantId: string, id: string) {
  return useQuery({ queryKey: inboxKeys.thread(tenantId, id), queryFn: () => getThread(tenantId, id) });
}

export async function getNotes(tenantId: string, id: string): Promise<Note[]> {
  const { data, error } = await supabase
    .from("conversation_notes")
    .select("id, author_id, body, created_at")
    .eq("tenant_id", tenantId)
    .eq("conversation_id", id)
    .order("created_at")
    .returns<Note[]>();
  if (error) throw toUserError(error);
  return data;
}

export function useNotes(tenantId: string, id: string) {
  return useQuery({ queryKey: inboxKeys.notes(tenantId, id), queryFn: () => getNotes(tenantId, id) });
}

export async function getGuestReservations(id: string): Promise<GuestReservation[]> {
  const { data, error } = await supabase
    .rpc("conversation_reservations", { p_conversation_id: id });
  if (error) throw toUserError(error);
  return (data ?? []) as GuestReservation[];
}

export function useGuestReservations(tenantId: string, id: string, guestId: string | null) {
  return useQuery({
    queryKey: [...inboxKeys.reservations(tenantId, id), guestId],
    queryFn: () => (guestId ? getGuestReservations(id) : Promise.resolve([])),
  });
}
