import { queryOptions } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError } from "../../../lib/errors";
import { toAutomationsError } from "./errors";

// What the database says of a body: the save's own check and, for a reservation, the body as
// the planner would render it for that guest (public.check_template / public.preview_template).
export interface Preview {
  text: string | null;
  unknown: string[];
  unbalanced: boolean;
  // The placeholders a template may use.
  allowed: string[];
  guestLanguage: string | null;
  // The saved template's language this guest would get for the key; null: none saved yet.
  language: string | null;
}

export async function previewTemplate(
  body: string,
  reservationId: string | null,
  key: string | null,
): Promise<Preview> {
  if (!reservationId) {
    const { data, error } = await supabase.rpc("check_template", { p_body: body });
    if (error) throw toUserError(error);
    const check = data as { unknown: string[]; unbalanced: boolean; allowed: string[] } | null;
    if (!check) throw new UserFacingError("errors.unknown");
    return { text: null, ...check, guestLanguage: null, language: null };
  }
  const { data, error } = await supabase.rpc("preview_template", {
    p_reservation_id: reservationId,
    p_body: body,
    p_key: key ?? undefined,
  });
  if (error) throw toAutomationsError(error, "template");
  const preview = data as {
    text: string | null;
    unknown: string[];
    unbalanced: boolean;
    allowed: string[];
    guest_language: string | null;
    language: string | null;
  } | null;
  if (!preview) throw new UserFacingError("errors.unknown");
  return {
    text: preview.text,
    unknown: preview.unknown,
    unbalanced: preview.unbalanced,
    allowed: preview.allowed,
    guestLanguage: preview.guest_language,
    language: preview.language,
  };
}

export const previewQueryOptions = (body: string, reservationId: string | null, key: string | null) =>
  queryOptions({
    queryKey: ["template-preview", reservationId, key, body],
    queryFn: () => previewTemplate(body, reservationId, key),
    staleTime: 30_000,
  });
