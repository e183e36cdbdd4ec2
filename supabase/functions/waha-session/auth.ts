// Who is calling waha-session: a signed-in Supabase user (JWT) who is an owner or admin of the
// tenant. The function verifies the token itself (config.toml: verify_jwt = false): Supabase's
// gateway check cannot verify tokens signed with the newer asymmetric keys, and it does not run
// at all where there is no gateway (the local server).
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";

export type JwtVerifier = (token: string) => Promise<JWTPayload>;
type Env = { get(key: string): string | undefined };

/** The Supabase CLI's well-known local JWT secret: the local server uses it only when asked to. */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

/** Asymmetric algorithms Supabase Auth signs with (JWT signing keys). */
const ASYMMETRIC = ["ES256", "RS256"];

/** Where the keys come from (environment variables; SUPABASE_* ones are provided by the platform):
 *
 *  - SUPABASE_JWKS: the project's public keys as JSON ({"keys": [...]} or [...]);
 *  - SUPABASE_URL: the same keys fetched from <SUPABASE_URL>/auth/v1/.well-known/jwks.json,
 *    cached for 10 minutes, and fetched again for a key id not seen yet (key rotation), at most
 *    once per cooldown (30 s) so that forged key ids cannot make us hammer Auth;
 *  - AUTH_JWT_SECRET: the legacy HS256 secret, for projects (or tokens issued before the switch)
 *    still signed with it. Supabase reserves the SUPABASE_ prefix for its own secrets, so this
 *    one has a name of ours (`supabase secrets set AUTH_JWT_SECRET=...`);
 *  - AUTH_JWT_ISSUER: when set, the `iss` every token must carry
 *    (https://<project-ref>.supabase.co/auth/v1 on hosted).
 */
export interface KeySourceOptions {
  jwks?: string;
  supabaseUrl?: string;
  hs256Secret?: string;
  issuer?: string;
  /** For tests: how long an unknown key id waits before another fetch (jose's default: 30 s). */
  cooldownMs?: number;
  cacheMaxAgeMs?: number;
  /** After a failed fetch, answer 503 at once for this long instead of fetching again. */
  failureBackoffMs?: number;
}

export function keySourceOptionsFromEnv(env: Env = Deno.env): KeySourceOptions {
  const value = (key: string) => env.get(key)?.trim() || undefined;
  return {
    jwks: value("SUPABASE_JWKS"),
    supabaseUrl: value("SUPABASE_URL"),
    hs256Secret: value("AUTH_JWT_SECRET"),
    issuer: value("AUTH_JWT_ISSUER"),
  };
}

/** True when at least one key source is configured. */
export function hasKeySource(options: KeySourceOptions): boolean {
  return Boolean(options.jwks || options.supabaseUrl || options.hs256Secret);
}

/** The verifier for the configured sources; one that answers 503 when none is configured. */
export function jwtVerifierFromEnv(env: Env = Deno.env): JwtVerifier {
  return jwtVerifier(keySourceOptionsFromEnv(env));
}

export function jwtVerifier(options: KeySourceOptions): JwtVerifier {
  if (!hasKeySource(options)) {
    return () =>
      Promise.reject(
        new HttpError(
          503,
          "not_configured",
          "no key to verify tokens with: set SUPABASE_JWKS, SUPABASE_URL or AUTH_JWT_SECRET",
        ),
      );
  }
  let staticKeys: JWTVerifyGetKey | undefined;
  let configError: string | undefined;
  if (options.jwks) {
    try {
      staticKeys = createLocalJWKSet(parseJwks(options.jwks));
    } catch (error) {
      configError = `SUPABASE_JWKS is not a JSON Web Key Set (${(error as Error).message})`;
    }
  }
  const remoteKeys = options.supabaseUrl
    ? createRemoteJWKSet(new URL("/auth/v1/.well-known/jwks.json", options.supabaseUrl), {
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: options.cacheMaxAgeMs,
    })
    : undefined;
  const failureBackoffMs = options.failureBackoffMs ?? 10_000;
  let fetchFailedAt = -Infinity;
  const secret = options.hs256Secret ? new TextEncoder().encode(options.hs256Secret) : undefined;
  const common: JWTVerifyOptions = { audience: "authenticated", ...(options.issuer ? { issuer: options.issuer } : {}) };

  const asymmetricKey: JWTVerifyGetKey = async (header, token) => {
    if (staticKeys) {
      try {
        return await staticKeys(header, token);
      } catch (error) {
        // A key rotated in after this isolate started is only in the published set.
        if (!(error instanceof joseErrors.JWKSNoMatchingKey) || !remoteKeys) throw error;
      }
    }
    if (!remoteKeys) throw new joseErrors.JWKSNoMatchingKey();
    // jose rate-limits fetches that succeed; after one that failed it would fetch again for
    // every request, each waiting up to its 5 s timeout while Auth is down.
    if (performance.now() < fetchFailedAt + failureBackoffMs) throw keysUnavailable("jwks: fetch failed recently");
    try {
      return await remoteKeys(header, token);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      fetchFailedAt = performance.now();
      throw keysUnavailable(`jwks: ${(error as Error).message}`);
    }
  };

  return async (token) => {
    if (configError) throw new HttpError(503, "not_configured", configError);
    const alg = decodeProtectedHeader(token).alg;
    if (alg === "HS256") {
      if (!secret) throw new joseErrors.JWSInvalid("HS256 token, but no AUTH_JWT_SECRET is configured");
      return (await jwtVerify(token, secret, { ...common, algorithms: ["HS256"] })).payload;
    }
    if (typeof alg === "string" && ASYMMETRIC.includes(alg)) {
      if (!staticKeys && !remoteKeys) {
        throw new joseErrors.JWSInvalid(`${alg} token, but neither SUPABASE_JWKS nor SUPABASE_URL is configured`);
      }
      return (await jwtVerify(token, asymmetricKey, { ...common, algorithms: ASYMMETRIC })).payload;
    }
    throw new joseErrors.JOSEAlgNotAllowed(`algorithm ${String(alg)} is not accepted`);
  };
}

/** Auth unreachable or answering nonsense: not the caller's fault, and worth a retry. */
function keysUnavailable(detail: string): HttpError {
  return new HttpError(503, "unavailable", "the project's signing keys could not be fetched; try again", {
    "retry-after": "30",
  }, detail);
}

/** SUPABASE_JWKS as the platform sets it ({"keys": [...]}) or as a bare array of keys. */
function parseJwks(text: string): JSONWebKeySet {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? { keys: parsed } : parsed as JSONWebKeySet;
}

/** A verifier for one HS256 secret (tests, and the local server's opt-in CLI secret). */
export function hs256Verifier(secret: string): JwtVerifier {
  return jwtVerifier({ hs256Secret: secret });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The signed-in user's id; 401 for a missing, invalid or expired token or a non-user role. */
export async function authenticatedUser(req: Request, verify: JwtVerifier): Promise<string> {
  const match = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    throw new HttpError(401, "unauthorized", "sign in: an Authorization: Bearer <access token> header is required");
  }
  if (/^sb_(publishable|secret)_/.test(match[1])) {
    // supabase-js sends the project's API key here when nobody is signed in.
    throw new HttpError(401, "unauthorized", "sign in: an API key is not a user's access token");
  }
  let claims: JWTPayload;
  try {
    claims = await verify(match[1]);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const why = error instanceof joseErrors.JWTExpired
      ? "the access token has expired"
      : "the access token is not valid";
    throw new HttpError(401, "unauthorized", why, {}, (error as Error).message);
  }
  if (claims.role !== "authenticated" || typeof claims.sub !== "string" || !UUID.test(claims.sub)) {
    throw new HttpError(401, "unauthorized", "a signed-in user's access token is required", {}, `role ${claims.role}`);
  }
  return claims.sub;
}
/** 403 unless the user is an owner or admin of the tenant (staff may not manage WhatsApp). */
export async function assertManager(sql: Sql, tenantId: string, userId: string): Promise<string> {
  const rows = await sql<{ role: string }[]>`
    select role::text from public.tenant_members where tenant_id = ${tenantId} and user_id = ${userId}`;
  const role = rows[0]?.role;
  if (role !== "owner" && role !== "admin") {
    throw new HttpError(
      403,
      "forbidden",
      "only the tenant's owners and admins can manage its WhatsApp session",
      {},
      `role ${role ?? "none"}`,
    );
  }
  return role;
}

/** Any member (owner, admin, staff) of the tenant: what the inbox's media needs. 403 otherwise. */
export async function assertMember(sql: Sql, tenantId: string, userId: string): Promise<string> {
  const rows = await sql<{ role: string }[]>`
    select role::text from public.tenant_members where tenant_id = ${tenantId} and user_id = ${userId}`;
  const role = rows[0]?.role;
  if (role !== "owner" && role !== "admin" && role !== "staff") {
    throw new HttpError(403, "forbidden", "only members of this hotel can open its guests' media", {}, "role none");
  }
  return role;
}
