// The two unsigned schemes PMSs offer: a shared secret token (Mews and Cloudbeds put it in the
// URL, Apaleo can send it as a header) and HTTP basic auth (Apaleo, Hostaway). Neither is bound
// to the body, so replays are harmless only because storage is idempotent on the event id.
import { base64Decode, secretsEqual, utf8 } from "./crypto.ts";

export type Verification = { ok: true } | { ok: false; failure: "headers" | "credentials" };

/** Tokens the request presents: Authorization: Bearer, X-Webhook-Token, or ?token= in the URL. */
function presentedTokens(headers: Headers, url: URL): string[] {
  const tokens: string[] = [];
  const authorization = headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  if (bearer) tokens.push(bearer[1]);
  const header = headers.get("x-webhook-token");
  if (header) tokens.push(header.trim());
  const query = url.searchParams.get("token");
  if (query) tokens.push(query);
  return tokens;
}

async function anyMatches(presented: Uint8Array<ArrayBuffer>[], secrets: readonly string[]): Promise<boolean> {
  let matched = false;
  for (const candidate of presented) {
    for (const secret of secrets) matched = (await secretsEqual(candidate, utf8(secret))) || matched;
  }
  return matched;
}

export async function verifyToken(headers: Headers, url: URL, secrets: readonly string[]): Promise<Verification> {
  const tokens = presentedTokens(headers, url);
  if (tokens.length === 0) return { ok: false, failure: "headers" };
  return (await anyMatches(tokens.map(utf8), secrets)) ? { ok: true } : { ok: false, failure: "credentials" };
}

/** Basic auth: the decoded `user:password` bytes against secrets stored as `user:password`. */
export async function verifyBasic(headers: Headers, secrets: readonly string[]): Promise<Verification> {
  const match = headers.get("authorization")?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match) return { ok: false, failure: "headers" };
  const decoded = base64Decode(match[1]);
  if (decoded === null) return { ok: false, failure: "credentials" };
  return (await anyMatches([decoded], secrets)) ? { ok: true } : { ok: false, failure: "credentials" };
}
