// POST /functions/v1/team-invite  {tenant_id, email, role, redirect_to}  (Authorization: Bearer <user JWT>)
//
// Invites someone into a hotel's team: public.invite_member runs as the signed-in user (so its
// rules hold: owners and admins invite, only owners invite owners), then Supabase Auth's
// /invite e-mails the person a link that signs them in and lands on
// `<redirect_to>?invitation=<token>`, where the dashboard lets them set a password and
// accept_invitation(token). Both happen in one transaction: no e-mail, no invitation.
//
// Someone who already has an account cannot be invited through Auth (422 email_exists): then
// the invitation stays and the answer carries the link for the inviter to pass on
// (`emailed: false`); the person opens it, signs in and joins.
import { sharedSql, type Sql } from "../_shared/db.ts";
import { HttpError, jsonResponse, readBody, requestIdOf, requireJsonBody } from "../_shared/http.ts";
import { failureResponse } from "../_shared/failure.ts";
import { parseJson } from "../_shared/json.ts";
import { type LogLine, type LogSink, stdoutSink } from "../_shared/log.ts";
import { authenticatedUser, type JwtVerifier, jwtVerifierFromEnv } from "../waha-session/auth.ts";

/** The Supabase CLI's published local secret key: local development only. */
export const LOCAL_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

export interface InviteDeps {
  sql: () => Sql;
  log: LogSink;
  verifyJwt: JwtVerifier;
  /** Auth's base URL, e.g. https://<project>.supabase.co/auth/v1. */
  authUrl: string;
  /** A service-role key for Auth's admin /invite. */
  serviceKey: string;
  fetch?: typeof fetch;
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, x-request-id",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-expose-headers": "x-request-id",
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLES = ["owner", "admin", "staff"] as const;

interface Command {
  tenantId: string;
  email: string;
  role: (typeof ROLES)[number];
  redirectTo: string;
}

function invalid(message: string): HttpError {
  return new HttpError(422, "invalid_request", message);
}

export function parseCommand(body: unknown): Command {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("the body must be a JSON object");
  const { tenant_id: tenantId, email, role, redirect_to: redirectTo } = body as Record<string, unknown>;
  if (typeof tenantId !== "string" || !UUID.test(tenantId)) throw invalid("tenant_id must be the tenant's uuid");
  if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim()) || email.length > 254) {
    throw invalid("email must be an e-mail address, e.g. name@hotel.com");
  }
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
    throw invalid(`role must be one of ${ROLES.join(", ")}`);
  }
  let url: URL;
  try {
    url = new URL(String(redirectTo));
  } catch {
    throw invalid("redirect_to must be the dashboard's address for accepting invitations");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid("redirect_to must be an http(s) address");
  }
  return { tenantId, email: email.trim().toLowerCase(), role: role as Command["role"], redirectTo: url.href };
}

/** What invite_member's refusals mean for the inviter. */
function refusal(error: unknown): HttpError | null {
  const code = (error as { code?: unknown })?.code;
  const message = (error as { message?: unknown })?.message;
  switch (code) {
    case "PT404":
      return new HttpError(404, "not_found", "tenant not found or not accessible");
    case "42501":
      return new HttpError(403, "forbidden", typeof message === "string" ? message : "not allowed");
    case "23505":
      return new HttpError(409, "already_member", "this address belongs to a member of the team already");
    case "22023":
      return invalid(typeof message === "string" ? message : "invalid invitation");
    default:
      return null;
  }
}

async function sendAuthInvite(deps: InviteDeps, email: string, redirectTo: string): Promise<"sent" | "exists"> {
  const url = `${deps.authUrl.replace(/\/+$/, "")}/invite?${new URLSearchParams({ redirect_to: redirectTo })}`;
  const response = await (deps.fetch ?? fetch)(url, {
    method: "POST",
    headers: {
      apikey: deps.serviceKey,
      authorization: `Bearer ${deps.serviceKey}`,
      "content-type": "application/json",
      "x-supabase-api-version": "2024-01-01",
    },
    body: JSON.stringify({ email }),
  });
  const body = await response.json().catch(() => ({})) as { code?: string; error_code?: string; message?: string };
  if (response.ok) return "sent";
  const code = body.code ?? body.error_code;
  if (response.status === 422 && code === "email_exists") return "exists";
  if (response.status === 429) {
    throw new HttpError(429, "rate_limited", "too many e-mails were sent just now: try again in a few minutes", {
      "retry-after": "60",
    });
  }
  throw new HttpError(
    502,
    "auth_unavailable",
    "the invitation e-mail could not be sent: try again",
    {},
    JSON.stringify(body),
  );
}

async function invite(command: Command, userId: string, deps: InviteDeps, line: LogLine) {
  const claims = JSON.stringify({ sub: userId, role: "authenticated" });
  return await deps.sql().begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${claims}, true), set_config('role', 'authenticated', true)`;
    let row: { invitation_id: string; token: string; expires_at: Date };
    try {
      [row] = await tx<{ invitation_id: string; token: string; expires_at: Date }[]>`
        select invitation_id, token, expires_at
        from public.invite_member(${command.tenantId}::uuid, ${command.email}, ${command.role}::public.member_role)`;
    } catch (error) {
      throw refusal(error) ?? error;
    }
    const link = new URL(command.redirectTo);
    link.searchParams.set("invitation", row.token);
    const sent = await sendAuthInvite(deps, command.email, link.href);
    line.emailed = sent === "sent";
    return {
      invitation_id: row.invitation_id,
      expires_at: row.expires_at,
      emailed: sent === "sent",
      // Only for an existing account, which Auth does not e-mail an invitation to.
      ...(sent === "exists" ? { link: link.href } : {}),
    };
  });
}

export function createHandler(deps: InviteDeps = defaultDeps()): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const line: LogLine = { level: "info", fn: "team-invite", requestId, method: req.method };
    let response: Response;
    try {
      if (req.method === "OPTIONS") {
        response = new Response(null, { status: 204, headers: { ...CORS, "x-request-id": requestId } });
      } else {
        if (req.method !== "POST") {
          throw new HttpError(405, "method_not_allowed", "use POST", { allow: "POST, OPTIONS" });
        }
        const userId = await authenticatedUser(req, deps.verifyJwt);
        line.userId = userId;
        requireJsonBody(req);
        const command = parseCommand(parseJson(await readBody(req, 16 * 1024)));
        Object.assign(line, { tenantId: command.tenantId, role: command.role });
        const result = await invite(command, userId, deps, line);
        line.outcome = "ok";
        response = jsonResponse(200, result, requestId, CORS);
      }
    } catch (error) {
      response = failureResponse(error, requestId, line, CORS);
    }
    line.status = response.status;
    line.latencyMs = Math.round((performance.now() - started) * 10) / 10;
    deps.log(line);
    return response;
  };
}

/** AUTH_URL (the local server sets it), else SUPABASE_URL/auth/v1 as on Supabase. */
export function authUrlFromEnv(env: { get(key: string): string | undefined } = Deno.env): string {
  const explicit = env.get("AUTH_URL");
  if (explicit) return explicit;
  const supabaseUrl = env.get("SUPABASE_URL");
  return supabaseUrl ? `${supabaseUrl.replace(/\/+$/, "")}/auth/v1` : "http://127.0.0.1:54321/auth/v1";
}

export function defaultDeps(): InviteDeps {
  const serviceKey = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (!serviceKey) throw new Error("team-invite needs SUPABASE_SERVICE_ROLE_KEY (Supabase provides it)");
  return {
    sql: sharedSql,
    log: stdoutSink,
    verifyJwt: jwtVerifierFromEnv(),
    authUrl: authUrlFromEnv(),
    serviceKey,
  };
}
