import { useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface GuestChoice {
  id: string;
  full_name: string | null;
  phone_e164: string | null;
  email: string | null;
}

// Guests of this hotel whose name, phone or e-mail contains the words typed (for linking an
// unknown number to a guest).
export async function findGuests(tenantId: string, text: string): Promise<GuestChoice[]> {
  const term = text.trim().replace(/[%_,()*\\]/g, " ");
  if (term.length < 2) return [];
  const like = `%${term}%`;
  const { data, error } = await supabase
    .from("guests")
    .select("id, full_name, phone_e164, email")
    .eq("tenant_id", tenantId)
    .or(`full_name.ilike.${like},phone_e164.ilike.${like},email.ilike.${like}`)
    .order("full_name")
    .limit(10)
    .returns<GuestChoice[]>();
  if (error) throw toUserError(error);
  return data;
}

export function useFindGuests(tenantId: string, text: string) {
  return useQuery({
    queryKey: ["inbox-guests", tenantId, text.trim()],
    queryFn: () => findGuests(tenantId, text),
    enabled: text.trim().length >= 2,
  });
}
