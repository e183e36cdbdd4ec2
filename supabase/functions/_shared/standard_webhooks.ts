// Standard Webhooks (https://www.standardwebhooks.com/), as Svix (Guesty) and our generic
// provider send them: webhook-id, webhook-timestamp, webhook-signature: "v1,<base64>" (several
// space-separated while the sender rotates), HMAC-SHA256 keyed with the base64-decoded whsec_
// secret over `id.timestamp.body`. Svix may send the same headers prefixed `svix-`.
import { base64Decode, base64Encode, hmac, timingSafeEqual, utf8 } from "./crypto.ts";

export const TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = "whsec_";

export type Failure = "headers" | "timestamp" | "signature";
export type Verification =
  | { ok: true; webhookId: string; timestamp: number }
  | { ok: false; failure: Failure };

export function decodeSecret(secret: string): Uint8Array<ArrayBuffer> | null {
  return base64Decode(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
}

function signedContent(id: string, timestamp: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = utf8(`${id}.${timestamp}.`);
  const content = new Uint8Array(head.byteLength + body.byteLength);
  content.set(head);
  content.set(body, head.byteLength);
  return content;
}

export async function sign(secret: string, id: string, timestamp: number, body: Uint8Array): Promise<string> {
  const key = decodeSecret(secret);
  if (key === null) throw new Error("a Standard Webhooks secret is base64, optionally prefixed with whsec_");
  return `v1,${base64Encode(await hmac("SHA-256", key, signedContent(id, String(timestamp), body)))}`;
}

/** The webhook-* headers, or the svix-* ones when no webhook-id is present (never a mix). */
export function webhookHeaders(
  headers: Headers,
): { id: string | null; timestamp: string | null; signature: string | null } {
  const prefix = headers.has("webhook-id") ? "webhook" : "svix";
  return {
    id: headers.get(`${prefix}-id`),
    timestamp: headers.get(`${prefix}-timestamp`),
    signature: headers.get(`${prefix}-signature`),
  };
}

export async function verify(
  headers: Headers,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds = TOLERANCE_SECONDS,
): Promise<Verification> {
  const { id, timestamp: rawTimestamp, signature } = webhookHeaders(headers);
  if (!id || rawTimestamp === null || signature === null) return { ok: false, failure: "headers" };
  if (!/^\d{1,15}$/.test(rawTimestamp)) return { ok: false, failure: "timestamp" };
  const timestamp = Number(rawTimestamp);
  if (nowSeconds - timestamp > toleranceSeconds || timestamp - nowSeconds > toleranceSeconds) {
    return { ok: false, failure: "timestamp" };
  }
  const candidates: Uint8Array[] = [];
  for (const part of signature.split(/\s+/)) {
    const comma = part.indexOf(",");
    if (comma < 0 || part.slice(0, comma) !== "v1") continue;
    const decoded = base64Decode(part.slice(comma + 1));
    if (decoded !== null && decoded.byteLength > 0) candidates.push(decoded);
  }
  const content = signedContent(id, rawTimestamp, body);
  for (const secret of secrets) {
    const key = decodeSecret(secret);
    if (key === null) continue;
    const expected = await hmac("SHA-256", key, content);
    let matched = false;
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched;
    if (matched) return { ok: true, webhookId: id, timestamp };
  }
  return { ok: false, failure: "signature" };
}
