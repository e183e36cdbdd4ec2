// WAHA signs each webhook with X-Webhook-Hmac: hex HMAC-SHA512 of the raw body, keyed with the
// UTF-8 bytes of the session's hmac.key, and says so in X-Webhook-Hmac-Algorithm: sha512.
import { hexDecode, hexEncode, hmac, timingSafeEqual, utf8 } from "./crypto.ts";

export type Verification = { ok: true } | { ok: false; failure: "headers" | "signature" };

export async function sign(key: string, body: Uint8Array<ArrayBuffer>): Promise<string> {
  return hexEncode(await hmac("SHA-512", utf8(key), body));
}

export async function verify(
  headers: Headers,
  body: Uint8Array<ArrayBuffer>,
  secrets: readonly string[],
): Promise<Verification> {
  const given = headers.get("x-webhook-hmac");
  if (given === null) return { ok: false, failure: "headers" };
  const algorithm = headers.get("x-webhook-hmac-algorithm");
  if (algorithm !== null && algorithm.trim().toLowerCase() !== "sha512") return { ok: false, failure: "signature" };
  const candidate = hexDecode(given.trim());
  if (candidate === null) return { ok: false, failure: "signature" };
  let matched = false;
  for (const key of secrets) {
    matched = timingSafeEqual(await hmac("SHA-512", utf8(key), body), candidate) || matched;
  }
  return matched ? { ok: true } : { ok: false, failure: "signature" };
}
