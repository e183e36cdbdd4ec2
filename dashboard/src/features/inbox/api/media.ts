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
  throw new UserFacingError(mediaErrorKey(response.status, await errorCode(response)));
}

async function errorCode(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    return typeof body.error === "string" ? body.error : "";
  } catch {
    return "";
  }
}

// The function's refusal (status, and its `error` code) in words that say what to do next.
export function mediaErrorKey(status: number, code: string): string {
  if (status === 401) return "errors.session";
  if (status === 403) return "errors.notAllowed";
  if (code === "media_gone") return "inbox.media.gone";
  if (status === 404) return "inbox.media.notAvailable";
  if (code === "media_too_large") return "inbox.media.tooLarge";
  if (status === 409 || status >= 500) return "inbox.media.whatsapp";
  return "errors.unknown";
}
