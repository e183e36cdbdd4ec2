import { env } from "../../../lib/env";
import { supabase } from "../../../lib/supabase";
import { UserFacingError } from "../../../lib/errors";

// A message's media, fetched from the hotel's WhatsApp session through the waha-session edge
// function only when someone opens it. Nothing is stored: the bytes live in this tab as a blob URL.
// (supabase-js's functions.invoke reads image/* and audio/* answers as text, so this is a fetch.)
export async function fetchMedia(tenantId: string, messageId: number): Promise<Blob> {
  const { data } = await supabase.auth.getSession();
  const token = data.session?.access_token;
  if (!token) throw new UserFacingError("errors.session");
  let response: Response;
  try {
    response = await fetch(`${env.supabaseUrl}/functions/v1/waha-session`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, apikey: env.supabaseKey, "content-type": "application/json" },
      body: JSON.stringify({ action: "media", tenant_id: tenantId, message_id: messageId }),
    });
  } catch {
    throw new UserFacingError("inbox.media.unreachable");
  }
  if (response.ok) return response.blob();
  if (response.status === 401) throw new UserFacingError("errors.session");
  if (response.status === 404) throw new UserFacingError("inbox.media.gone");
  if (response.status === 502) throw new UserFacingError("inbox.media.whatsapp");
  throw new UserFacingError("errors.unknown");
}
