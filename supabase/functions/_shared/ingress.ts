// The pipeline both webhook functions share. Each step can only refuse, and cheap refusals come
// first: route (404), method (405), media type (415), size (413) before the database is asked
// anything; then who is calling (401), then what they sent (400, 422); only then one call to
// internal.ingest_inbound_events_v1. Every request ends in exactly one JSON log line.
import type postgres from "postgres";
import { isTransientDbError, type Sql } from "./db.ts";
import {
  errorResponse,
  HttpError,
  jsonResponse,
  readBody,
  requestIdOf,
  requireJsonBody,
  requireMethod,
  RETRY_AFTER_SECONDS,
  segmentsAfter,
  unauthorized,
} from "./http.ts";
import { assertStorable, parseJson } from "./json.ts";
import type { LogLine, LogSink } from "./log.ts";
import { assertMatches, type SchemaName } from "./schemas.ts";

export interface IngressDeps {
  /** The database client; called lazily so a refused request never opens a connection. */
  sql: () => Sql;
  /** Epoch milliseconds. */
  now: () => number;
  log: LogSink;
}

export interface StoredEvent {
  eventId: string;
  eventType: string;
  payload: unknown;
}

export type Interpretation =
  | { kind: "store"; events: StoredEvent[] }
  | { kind: "ignore"; eventType: string; reason: string };

export interface RequestFacts {
  headers: Headers;
  url: URL;
  body: Uint8Array<ArrayBuffer>;
  nowMs: number;
}

export type Verdict = { ok: true; webhookId?: string } | { ok: false; failure: string };

export interface IngressSpec {
  functionName: string;
  source: "pms" | "waha";
  /** Provider and tenant key from the path after the function name (key "" when malformed); throws 404. */
  route(segments: string[]): { provider: string; key: string };
  /** The scheme exercised for an unknown key, so that answer takes as long as a bad signature. */
  decoyScheme(provider: string): string;
  verify(scheme: string, facts: RequestFacts, secrets: readonly string[]): Promise<Verdict>;
  schema(provider: string): SchemaName;
  interpret(
    provider: string,
    body: unknown,
    facts: RequestFacts & { webhookId?: string },
  ): Interpretation | Promise<Interpretation>;
}

interface AuthContext {
  tenantId: string;
  scheme: string;
  secrets: string[];
}

// A well-formed secret no sender has: verified against when the tenant key is unknown.
const DECOY_SECRETS = ["whsec_ZGVjb3ktc2VjcmV0LW5vYm9keS1oYXMtdGhpcy1rZXk="];

async function authContext(sql: Sql, source: string, provider: string, key: string): Promise<AuthContext | null> {
  const rows = await sql<{ tenant_id: string; auth_scheme: string; secrets: string[] }[]>`
    select tenant_id, auth_scheme, secrets
    from internal.webhook_auth_context_v1(${source}, ${provider}, ${key})`;
  if (rows.length === 0) return null;
  return { tenantId: rows[0].tenant_id, scheme: rows[0].auth_scheme, secrets: rows[0].secrets };
}

async function store(
  sql: Sql,
  tenantId: string,
  source: string,
  provider: string,
  events: StoredEvent[],
  requestId: string,
): Promise<{ event_id: string; duplicate: boolean }[]> {
  const batch = events.map((e) => ({ event_id: e.eventId, event_type: e.eventType, payload: e.payload }));
  return await sql<{ event_id: string; duplicate: boolean }[]>`
    select event_id, duplicate
    from internal.ingest_inbound_events_v1(
      ${tenantId}::uuid, ${source}::public.event_source, ${provider}, ${
    sql.json(batch as postgres.JSONValue)
  }, ${requestId})`;
}

/** 1..300 characters, what inbound_events.event_id holds. */
export function checkEventId(id: string, what: string): string {
  if (id.length < 1 || id.length > 300) {
    throw new HttpError(422, "unprocessable_payload", `${what} must have 1 to 300 characters`);
  }
  return id;
}

function eventTypesOf(events: StoredEvent[]): string | string[] {
  const types = [...new Set(events.map((e) => e.eventType))];
  return types.length === 1 ? types[0] : types.slice(0, 20);
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === "string" ? ` ${code}` : ""}: ${error.message}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}

async function ingest(
  req: Request,
  spec: IngressSpec,
  deps: IngressDeps,
  requestId: string,
  line: LogLine,
): Promise<Response> {
  const url = new URL(req.url);
  const { provider, key } = spec.route(segmentsAfter(url.pathname, spec.functionName));
  line.provider = provider;
  requireMethod(req, ["POST"]);
  requireJsonBody(req);
  const facts: RequestFacts = { headers: req.headers, url, body: await readBody(req), nowMs: deps.now() };

  // An empty key is one route() found malformed: it cannot exist, so the database is not asked.
  const context = key === "" ? null : await authContext(deps.sql(), spec.source, provider, key);
  if (context === null) {
    await spec.verify(spec.decoyScheme(provider), facts, DECOY_SECRETS);
    throw unauthorized("unknown webhook key, provider or inactive configuration");
  }
  line.tenantId = context.tenantId;
  const verdict = await spec.verify(context.scheme, facts, context.secrets);
  if (!verdict.ok) {
    // Same answer either way; the log says whether the tenant simply has no secret set yet.
    const why = context.secrets.length === 0 ? "no active webhook secret is set" : verdict.failure;
    throw unauthorized(`${context.scheme}: ${why}`);
  }

  const parsed = parseJson(facts.body);
  assertStorable(parsed);
  assertMatches(spec.schema(provider), parsed);
  const result = await spec.interpret(provider, parsed, { ...facts, webhookId: verdict.webhookId });
  if (result.kind === "ignore") {
    Object.assign(line, { eventType: result.eventType, outcome: "ignored", reason: result.reason, events: 0 });
    return jsonResponse(200, { received: 0, stored: 0, duplicates: 0, ignored: result.reason }, requestId);
  }
  line.eventType = eventTypesOf(result.events);
  const rows = await store(deps.sql(), context.tenantId, spec.source, provider, result.events, requestId);
  const stored = rows.filter((r) => !r.duplicate).length;
  const duplicates = result.events.length - stored;
  Object.assign(line, {
    outcome: stored > 0 ? "stored" : "duplicate",
    events: result.events.length,
    stored,
    duplicates,
  });
  return jsonResponse(stored > 0 ? 202 : 200, { received: result.events.length, stored, duplicates }, requestId);
}

function failure(error: unknown, requestId: string, line: LogLine): Response {
  if (error instanceof HttpError) {
    Object.assign(line, { level: "warn", outcome: "rejected", reason: error.detail ?? error.message });
    return errorResponse(error, requestId);
  }
  if (isTransientDbError(error)) {
    Object.assign(line, { level: "error", outcome: "unavailable", reason: describeError(error) });
    const unavailable = new HttpError(
      503,
      "unavailable",
      "the event store is unreachable; nothing was stored, retry later",
      {
        "retry-after": String(RETRY_AFTER_SECONDS),
      },
    );
    return errorResponse(unavailable, requestId);
  }
  Object.assign(line, { level: "error", outcome: "error", reason: describeError(error) });
  return errorResponse(new HttpError(500, "internal_error", "unexpected error; nothing was stored"), requestId);
}

export function createIngressHandler(spec: IngressSpec, deps: IngressDeps): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const line: LogLine = { level: "info", fn: spec.functionName, requestId, method: req.method };
    let response: Response;
    try {
      response = await ingest(req, spec, deps, requestId, line);
    } catch (error) {
      response = failure(error, requestId, line);
    }
    line.status = response.status;
    line.latencyMs = Math.round((performance.now() - started) * 10) / 10;
    deps.log(line);
    return response;
  };
}
