// Test data made through the same tables and SQL functions the product uses, on the database
// TEST_DATABASE_URL points at (the devstack test runner sets it). The database is shared with
// other suites, so every tenant here is new and named uniquely.
import { connect, type Sql } from "../_shared/db.ts";
import type { IngressDeps } from "../_shared/ingress.ts";
import type { LogLine } from "../_shared/log.ts";
import * as standardWebhooks from "../_shared/standard_webhooks.ts";
import * as wahaHmac from "../_shared/waha_hmac.ts";
import { utf8 } from "../_shared/crypto.ts";

export function testDatabaseUrl(): string {
  const url = Deno.env.get("TEST_DATABASE_URL");
  if (!url) throw new Error("TEST_DATABASE_URL is not set; run `.venv/bin/python -m devstack test deno`");
  return url;
}

/** A client for one test module; end it in the module's last test. */
export function testSql(): Sql {
  return connect(testDatabaseUrl(), { applicationName: "deno-tests" });
}

export interface Tenant {
  id: string;
  webhookKey: string;
}

export async function createTenant(sql: Sql, label = "tenant"): Promise<Tenant> {
  const [row] = await sql<{ id: string; webhook_key: string }[]>`
    insert into public.tenants (name) values (${`deno ${label} ${crypto.randomUUID()}`})
    returning id, webhook_key`;
  return { id: row.id, webhookKey: row.webhook_key };
}

export async function createPmsConfig(
  sql: Sql,
  tenant: Tenant,
  provider: string,
  scheme: "standard_webhooks" | "token" | "basic",
  secret?: string,
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into public.pms_configurations (tenant_id, provider, auth_scheme)
    values (${tenant.id}, ${provider}::public.pms_provider, ${scheme}::public.webhook_auth_scheme)
    returning id`;
  if (secret !== undefined) await setPmsSecret(sql, row.id, secret);
  return row.id;
}

/** Adds a secret; the previous one stays valid for `previousValidFor` (0: rotated out now). */
export async function setPmsSecret(sql: Sql, configId: string, secret: string, previousValidFor = "1 hour") {
  await sql`select public.set_pms_webhook_secret(${configId}::uuid, ${secret}, ${previousValidFor}::interval)`;
}

export async function createWahaConfig(
  sql: Sql,
  tenant: Tenant,
  baseUrl = "http://127.0.0.1:9",
  sessionName = "default",
): Promise<{ configId: string; hmacKey: string }> {
  const [row] = await sql<{ id: string }[]>`
    insert into public.waha_configurations (tenant_id, base_url, session_name)
    values (${tenant.id}, ${baseUrl}, ${sessionName}) returning id`;
  const hmacKey = await rotateWahaKey(sql, row.id);
  return { configId: row.id, hmacKey };
}

export async function rotateWahaKey(sql: Sql, configId: string, previousValidFor = "10 minutes"): Promise<string> {
  const [row] = await sql<{ key: string }[]>`
    select internal.rotate_waha_webhook_secret_v1(${configId}::uuid, ${previousValidFor}::interval) as key`;
  return row.key;
}

export interface StoredRow {
  id: string;
  tenant_id: string;
  source: string;
  provider: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  request_id: string | null;
  status: string;
}

export async function eventsOf(sql: Sql, tenant: Tenant): Promise<StoredRow[]> {
  return await sql<StoredRow[]>`
    select id::text, tenant_id, source::text, provider, event_id, event_type, payload, request_id, status::text
    from public.inbound_events where tenant_id = ${tenant.id} order by id`;
}

export async function countEvents(sql: Sql, tenant: Tenant): Promise<number> {
  const [row] = await sql<
    { n: number }[]
  >`select count(*)::int as n from public.inbound_events where tenant_id = ${tenant.id}`;
  return row.n;
}

export function newStandardSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export function newToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Deps with a log that keeps its lines, a fixed or moving clock, and the test database. */
export function testDeps(sql: Sql, now: () => number = Date.now): IngressDeps & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { sql: () => sql, now, log: (line) => lines.push(line), lines };
}

export const BASE = "http://functions.test";

export async function standardWebhookRequest(
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  secrets: string | string[],
  options: { id?: string; timestamp?: number; prefix?: "webhook" | "svix"; headers?: Record<string, string> } = {},
): Promise<Request> {
  const bytes = typeof body === "string" ? utf8(body) : body;
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const keys = typeof secrets === "string" ? [secrets] : secrets;
  const signature = (await Promise.all(keys.map((s) => standardWebhooks.sign(s, id, timestamp, bytes)))).join(" ");
  const prefix = options.prefix ?? "webhook";
  return new Request(`${BASE}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(timestamp),
      [`${prefix}-signature`]: signature,
      ...options.headers,
    },
    body: bytes,
  });
}

export async function wahaRequest(
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  key: string,
  headers: Record<string, string> = {},
): Promise<Request> {
  const bytes = typeof body === "string" ? utf8(body) : body;
  return new Request(`${BASE}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-webhook-hmac": await wahaHmac.sign(key, bytes),
      "x-webhook-hmac-algorithm": "sha512",
      ...headers,
    },
    body: bytes,
  });
}

const SAMPLES = new URL("../../../shared/samples/webhooks/", import.meta.url);

export function sample(vendor: string, name: string): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(new URL(`${vendor}/${name}.json`, SAMPLES)));
}

export function vectors<T>(name: string): T {
  return JSON.parse(Deno.readTextFileSync(new URL(`../../../shared/vectors/${name}.json`, import.meta.url)));
}

/** A generic-provider body for a reservation id, valid against generic.schema.json. */
export function genericBody(
  reservationId = `R-${crypto.randomUUID().slice(0, 8)}`,
  type = "reservation.created",
): string {
  const body = sample("generic", "reservation-created") as { type: string; data: Record<string, unknown> };
  body.type = type;
  body.data.pms_reservation_id = reservationId;
  return JSON.stringify(body);
}

export const TEST_JWT_SECRET = "deno-tests-jwt-secret-with-at-least-32-characters";

/** A Supabase access token as Auth would issue it for `userId`. */
export async function accessToken(
  userId: string,
  { role = "authenticated", expiresIn = "1h", secret = TEST_JWT_SECRET } = {},
): Promise<string> {
  const { SignJWT } = await import("jose");
  return await new SignJWT({ role, aal: "aal1", session_id: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setAudience("authenticated")
    .setIssuer("http://127.0.0.1:54321/auth/v1")
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** A user in auth.users who is a member of `tenant` with `role` (null: not a member). */
export async function createMember(
  sql: Sql,
  tenant: Tenant,
  role: "owner" | "admin" | "staff" | null,
): Promise<string> {
  const userId = crypto.randomUUID();
  await sql`insert into auth.users (id, email, role, aud) values (${userId}, ${`${userId}@example.test`}, 'authenticated', 'authenticated')`;
  if (role !== null) {
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenant.id}, ${userId}, ${role}::public.member_role)`;
  }
  return userId;
}

/** A TCP port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
