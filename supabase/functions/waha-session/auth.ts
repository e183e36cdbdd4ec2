// Who is calling waha-session: a signed-in Supabase user (JWT) who is an owner or admin of the
// tenant. On Supabase the platform already checks the JWT (verify_jwt = true); the function
// checks it again so that it is safe wherever it runs (the local server has no gateway).
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify } from "jose";
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";

export type JwtVerifier = (token: string) => Promise<JWTPayload>;

/** The Supabase CLI's well-known local JWT secret, used by the local server only. */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

/**
 * HS256 with the project's JWT secret (SUPABASE_JWT_SECRET, or JWT_SECRET) when one is set;
 * otherwise the project's published signing keys (asymmetric keys, Supabase's newer default),
 * fetched from SUPABASE_URL/auth/v1/.well-known/jwks.json and cached.
 */
export function jwtVerifierFromEnv(env: { get(key: string): string | undefined } = Deno.env): JwtVerifier {
  const secret = env.get("SUPABASE_JWT_SECRET") ?? env.get("JWT_SECRET");
  if (secret) return hs256Verifier(secret);
  const url = env.get("SUPABASE_URL");
  if (url) {
    const keys = createRemoteJWKSet(new URL("/auth/v1/.well-known/jwks.json", url));
    return async (token) => (await jwtVerify(token, keys, { audience: "authenticated" })).payload;
  }
  return () => Promise.reject(new HttpError(503, "not_configured", "set SUPABASE_JWT_SECRET or SUPABASE_URL"));
}

export function hs256Verifier(secret: string): JwtVerifier {
  const key = new TextEncoder().encode(secret);
  return async (token) => (await jwtVerify(token, key, { algorithms: ["HS256"], audience: "authenticated" })).payload;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The signed-in user's id; 401 for a missing, invalid or expired token or a non-user role. */
export async function authenticatedUser(req: Request, verify: JwtVerifier): Promise<string> {
  const match = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    throw new HttpError(401, "unauthorized", "sign in: an Authorization: Bearer <access token> header is required");
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
