// The local stand-in for Supabase's functions gateway: every function under
// http://127.0.0.1:54321/functions/v1/<name>, without Docker. `make functions` runs it.
//
//   SUPABASE_DB_URL      database (default: `make db`'s postgresql://postgres@127.0.0.1:54322/postgres)
//   PORT, HOST           where to listen (default 54321 on 127.0.0.1)
//   SUPABASE_JWKS, SUPABASE_URL, AUTH_JWT_SECRET, AUTH_JWT_ISSUER
//                        where waha-session gets the keys for users' tokens (waha-session/auth.ts).
//                        With none set it refuses to start, unless given --allow-local-jwt-secret:
//                        then it trusts the Supabase CLI's published secret, which anyone can sign
//                        with (make demo, make functions and the tests pass it; never a deployment)
//   FUNCTIONS_URL        the URL WAHA should post webhooks to (default: this server)
//   AUTH_URL, SUPABASE_SERVICE_ROLE_KEY
//                        Auth, for team-invite's e-mails (default: make gateway's
//                        http://127.0.0.1:54321/auth/v1 and, with --allow-local-jwt-secret, the
//                        CLI's published local secret key)
//   ALLOW_LOCAL_URLS     true: tenants' WAHA URLs may be http on local addresses (local
//                        development only; `make demo` sets it; default off)
//
// Like the gateway it hands each function the path without /functions/v1, and it does not check
// JWTs itself: waha-session verifies them, the webhook functions use their own schemes.
import { connect, LOCAL_DB_URL } from "./_shared/db.ts";
import { errorResponse, HttpError, jsonResponse, requestIdOf } from "./_shared/http.ts";
import { type LogSink, stdoutSink } from "./_shared/log.ts";
import { allowLocalUrlsFromEnv } from "./_shared/url_guard.ts";
import { createHandler as pmsWebhook } from "./pms-webhook/handler.ts";
import { createHandler as wahaWebhook } from "./waha-webhook/handler.ts";
import {
  hasKeySource,
  hs256Verifier,
  type JwtVerifier,
  jwtVerifier,
  keySourceOptionsFromEnv,
  LOCAL_JWT_SECRET,
} from "./waha-session/auth.ts";
import { createHandler as wahaSession } from "./waha-session/handler.ts";
import { authUrlFromEnv, createHandler as teamInvite, LOCAL_SECRET_KEY } from "./team-invite/handler.ts";

export type Handler = (req: Request) => Promise<Response>;

// Methods fetch's Request cannot carry (CONNECT, TRACE, TRACK): answered here, like any method
// no function takes, instead of failing to build the Request for the function.
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Routes /functions/v1/<name>[/...] to the function of that name. `functions` is a Map, so a
 * name only matches a function that was registered (never an object's built-ins such as
 * `constructor` or `__proto__`). The router logs one JSON line for each answer it gives itself
 * (404, 405, /health, 500); a function logs its own.
 */
export function createRouter(functions: ReadonlyMap<string, Handler>, log: LogSink = stdoutSink): Handler {
  return async (req: Request): Promise<Response> => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const answer = (response: Response, fields: Record<string, unknown>): Response => {
      log({
        level: response.status >= 500 ? "error" : response.status >= 400 ? "warn" : "info",
        fn: "router",
        requestId,
        method: req.method,
        status: response.status,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        ...fields,
      });
      return response;
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return answer(errorResponse(new HttpError(400, "bad_request", "malformed URL"), requestId), {
        outcome: "rejected",
      });
    }
    if (url.pathname === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return answer(
          errorResponse(new HttpError(405, "method_not_allowed", "use GET", { allow: "GET, HEAD" }), requestId),
          { outcome: "rejected", reason: `method ${req.method}` },
        );
      }
      return answer(jsonResponse(200, { ok: true, functions: [...functions.keys()] }, requestId), {
        outcome: "health",
      });
    }
    const match = url.pathname.match(/^\/functions\/v1\/([^/]+)(\/.*)?$/);
    const name = match?.[1];
    const handler = name === undefined ? undefined : functions.get(name);
    if (match === null || handler === undefined) {
      const known = [...functions.keys()].map((n) => `/functions/v1/${n}`).join(", ");
      return answer(
        errorResponse(new HttpError(404, "not_found", `no such function; serving ${known}`), requestId),
        { outcome: "rejected", reason: "no such function" },
      );
    }
    if (FORBIDDEN_METHODS.has(req.method.toUpperCase())) {
      return answer(
        errorResponse(
          new HttpError(405, "method_not_allowed", "use POST", { allow: "POST, OPTIONS" }),
          requestId,
        ),
        { fn: name, outcome: "rejected", reason: `method ${req.method}` },
      );
    }
    const inner = new URL(url);
    inner.pathname = `/${name}${match[2] ?? ""}`;
    try {
      // A fresh Request (not `new Request(inner, req)`, which would also copy req.signal).
      return await handler(new Request(inner, { method: req.method, headers: req.headers, body: req.body }));
    } catch (error) {
      return answer(
        errorResponse(new HttpError(500, "internal_error", "unexpected error; it has been logged"), requestId),
        {
          fn: name,
          outcome: "error",
          reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        },
      );
    }
  };
}

export interface LocalServerOptions {
  databaseUrl?: string;
  port?: number;
  hostname?: string;
  /** HS256 secret for users' tokens (tests); verifyJwt, when given, wins. */
  jwtSecret?: string;
  verifyJwt?: JwtVerifier;
  functionsUrl?: string;
  /** Local development only: waha-session may call http and local addresses (default false). */
  allowLocalUrls?: boolean;
  /** Auth's URL and a service-role key, for team-invite (default: make gateway's, the CLI's local key). */
  authUrl?: string;
  serviceKey?: string;
  signal?: AbortSignal;
  log?: (line: Record<string, unknown>) => void;
}

/** Starts the server (port 0 picks a free one); it listens once this returns. */
export function serveFunctions(
  options: LocalServerOptions = {},
): { server: Deno.HttpServer<Deno.NetAddr>; url: string } {
  const sql = connect(options.databaseUrl ?? LOCAL_DB_URL, { applicationName: "local-functions" });
  const log = options.log ?? stdoutSink;
  // The router needs the address the server got, so it is filled in right after listening.
  const routing: { router?: Handler } = {};
  const server = Deno.serve({
    port: options.port ?? 54321,
    hostname: options.hostname ?? "127.0.0.1",
    signal: options.signal,
    onListen: () => {},
  }, (req) => routing.router!(req));
  const url = `http://${server.addr.hostname}:${server.addr.port}`;
  const deps = { sql: () => sql, now: Date.now, log };
  routing.router = createRouter(
    new Map<string, Handler>([
      ["pms-webhook", pmsWebhook(deps)],
      ["waha-webhook", wahaWebhook(deps)],
      [
        "waha-session",
        wahaSession({
          sql: () => sql,
          log,
          verifyJwt: options.verifyJwt ?? hs256Verifier(options.jwtSecret ?? LOCAL_JWT_SECRET),
          functionsUrl: options.functionsUrl ?? `${url}/functions/v1`,
          allowLocalUrls: options.allowLocalUrls ?? false,
        }),
      ],
      [
        "team-invite",
        teamInvite({
          sql: () => sql,
          log,
          verifyJwt: options.verifyJwt ?? hs256Verifier(options.jwtSecret ?? LOCAL_JWT_SECRET),
          authUrl: options.authUrl ?? "http://127.0.0.1:54321/auth/v1",
          serviceKey: options.serviceKey ?? LOCAL_SECRET_KEY,
        }),
      ],
    ]),
    log,
  );
  server.finished.then(() => sql.end());
  return { server, url };
}

if (import.meta.main) {
  const env = Deno.env;
  const keys = keySourceOptionsFromEnv(env);
  const localSecret = Deno.args.includes("--allow-local-jwt-secret");
  if (!hasKeySource(keys) && !localSecret) {
    console.error(JSON.stringify({
      level: "error",
      msg: "no key source for users' tokens: set SUPABASE_JWKS, SUPABASE_URL or AUTH_JWT_SECRET, " +
        "or pass --allow-local-jwt-secret on a development machine (anyone can sign with that secret)",
    }));
    Deno.exit(2);
  }
  const controller = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => controller.abort());
  const { url } = serveFunctions({
    databaseUrl: env.get("SUPABASE_DB_URL"),
    port: Number(env.get("PORT") ?? 54321),
    hostname: env.get("HOST") ?? "127.0.0.1",
    verifyJwt: hasKeySource(keys) ? jwtVerifier(keys) : hs256Verifier(LOCAL_JWT_SECRET),
    functionsUrl: env.get("FUNCTIONS_URL"),
    allowLocalUrls: allowLocalUrlsFromEnv(env),
    authUrl: authUrlFromEnv(env),
    serviceKey: env.get("SUPABASE_SERVICE_ROLE_KEY") ?? (localSecret ? LOCAL_SECRET_KEY : undefined),
    signal: controller.signal,
  });
  console.log(JSON.stringify({
    level: "info",
    msg: "edge functions listening",
    url: `${url}/functions/v1`,
    functions: ["pms-webhook", "waha-webhook", "waha-session", "team-invite"],
    // Said on every start, so a development server is recognisable as one in its log.
    userTokens: hasKeySource(keys) ? "configured keys" : "the Supabase CLI's published local secret (development only)",
  }));
}
