// The inbox's rows as the API answers them (see the inbox contract: conversations,
// conversation_messages, conversation_notes and the inbox RPCs).

export interface ConversationSummary {
  id: string;
  property_id: string | null;
  waha_session: string;
  chat_id: string;
  phone_e164: string | null;
  guest_id: string | null;
  guest_name: string | null;
  contact_name: string | null;
  status: "open" | "closed";
  assignee_id: string | null;
  last_message_at: string;
  last_message_preview: string | null;
  detected_language: string | null;
  guest_language: string | null;
  guest_opted_out: boolean;
  unread_count: number;
}

export interface ConversationGuest {
  full_name: string | null;
  phone_e164: string | null;
  language: string | null;
  whatsapp_opt_in: boolean;
  opted_out_at: string | null;
  opt_out_reason: string | null;
}

export interface Conversation {
  id: string;
  tenant_id: string;
  property_id: string | null;
  chat_id: string;
  phone_e164: string | null;
  guest_id: string | null;
  contact_name: string | null;
  status: "open" | "closed";
  assignee_id: string | null;
  detected_language: string | null;
  guests: ConversationGuest | null;
  properties: { name: string; timezone: string } | null;
}

export type MediaKind = "image" | "document" | "audio" | "voice" | "video" | "location" | "sticker";

export interface ThreadMessage {
  id: number;
  direction: "inbound" | "outbound";
  sender: "guest" | "automation" | "staff" | "phone";
  sent_by: string | null;
  delivery_status: string | null;
  last_error: string | null;
  body: string | null;
  media_kind: MediaKind | null;
  media_mimetype: string | null;
  media_filename: string | null;
  media_size: number | null;
  has_media_file: boolean;
  location_latitude: number | null;
  location_longitude: number | null;
  location_name: string | null;
  language: string | null;
  consent_change: "opted_out" | "opted_in" | "opt_in_refused" | null;
  opt_out_override_reason: string | null;
  sent_at: string;
}

export interface Note {
  id: number;
  author_id: string | null;
  body: string;
  created_at: string;
}

export interface GuestReservation {
  reservation_id: string;
  property_id: string;
  property_name: string;
  pms_reservation_id: string;
  arrival_date: string;
  departure_date: string;
  status: string;
  timing: "current" | "upcoming" | "past";
}

export interface UnreadCount {
  property_id: string | null;
  open_conversations: number;
  unread_conversations: number;
  unread_messages: number;
}

// What the person sees as the conversation's name: the guest's, else the name WhatsApp shows
// with the number (anyone can call themselves anything there), else the number.
export function displayName(c: {
  guest_name?: string | null;
  contact_name: string | null;
  phone_e164: string | null;
  chat_id: string;
  guests?: ConversationGuest | null;
}): string {
  const guest = c.guest_name ?? c.guests?.full_name;
  if (guest) return guest;
  const number = c.phone_e164 ?? c.chat_id;
  return c.contact_name ? `${c.contact_name} · ${number}` : number;
}
