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
//
// Like the gateway it hands each function the path without /functions/v1, and it does not check
// JWTs itself: waha-session verifies them, the webhook functions use their own schemes.
import { connect, LOCAL_DB_URL } from "./_shared/db.ts";
import { errorResponse, HttpError, jsonResponse, requestIdOf } from "./_shared/http.ts";
import { stdoutSink } from "./_shared/log.ts";
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

export type Handler = (req: Request) => Promise<Response>;

export function createRouter(functions: Record<string, Handler>): Handler {
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname === "/health") {
      return jsonResponse(200, { ok: true, functions: Object.keys(functions) }, requestIdOf(req));
    }
    const match = url.pathname.match(/^\/functions\/v1\/([^/]+)(\/.*)?$/);
    const handler = match ? functions[match[1]] : undefined;
    if (!match || handler === undefined) {
      const known = Object.keys(functions).map((n) => `/functions/v1/${n}`).join(", ");
      return errorResponse(new HttpError(404, "not_found", `no such function; serving ${known}`), requestIdOf(req));
    }
    const inner = new URL(url);
    inner.pathname = `/${match[1]}${match[2] ?? ""}`;
    // A fresh Request (not `new Request(inner, req)`, which would also copy req.signal).
    return await handler(new Request(inner, { method: req.method, headers: req.headers, body: req.body }));
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
  routing.router = createRouter({
    "pms-webhook": pmsWebhook(deps),
    "waha-webhook": wahaWebhook(deps),
    "waha-session": wahaSession({
      sql: () => sql,
      log,
      verifyJwt: options.verifyJwt ?? hs256Verifier(options.jwtSecret ?? LOCAL_JWT_SECRET),
      functionsUrl: options.functionsUrl ?? `${url}/functions/v1`,
    }),
  });
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
    signal: controller.signal,
  });
  console.log(JSON.stringify({
    level: "info",
    msg: "edge functions listening",
    url: `${url}/functions/v1`,
    functions: ["pms-webhook", "waha-webhook", "waha-session"],
    // Said on every start, so a development server is recognisable as one in its log.
    userTokens: hasKeySource(keys) ? "configured keys" : "the Supabase CLI's published local secret (development only)",
  }));
}
