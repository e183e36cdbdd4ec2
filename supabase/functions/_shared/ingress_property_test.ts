// Thousands of random and mutated requests against both webhook functions on the real database:
// none gets a 5xx, none without valid credentials stores anything, and every genuine one does.
import assert from "node:assert/strict";
import fc from "fast-check";
import { createHandler as pmsHandler } from "../pms-webhook/handler.ts";
import { createHandler as wahaHandler } from "../waha-webhook/handler.ts";
import {
  BASE,
  createPmsConfig,
  createTenant,
  createWahaConfig,
  genericBody,
  newStandardSecret,
  newToken,
  sample,
  standardWebhookRequest,
  type Tenant,
  testDeps,
  testSql,
  wahaRequest,
} from "../_testing/fixtures.ts";
import type { Sql } from "./db.ts";

const sql = testSql();
const opts = { sanitizeOps: false, sanitizeResources: false };
const RUNS = Number(Deno.env.get("PROPERTY_RUNS") ?? 700);

interface Target {
  name: "generic" | "mews" | "apaleo" | "waha";
  tenant: Tenant;
  path: string;
  /** The genuine request carrying `marker` in its event id or payload. */
  genuine(marker: string): Promise<Request>;
  /** Mutations that must make the request unacceptable. */
  mutations: Mutation[];
}

type Mutation = (req: Request, rand: number) => Promise<Request>;

async function setup(): Promise<Target[]> {
  const g = await createTenant(sql, "prop-generic");
  const gSecret = newStandardSecret();
  await createPmsConfig(sql, g, "generic", "standard_webhooks", gSecret);
  const m = await createTenant(sql, "prop-mews");
  const mToken = newToken();
  await createPmsConfig(sql, m, "mews", "token", mToken);
  const a = await createTenant(sql, "prop-apaleo");
  await createPmsConfig(sql, a, "apaleo", "basic", "apaleo:prop-password-123");
  const w = await createTenant(sql, "prop-waha");
  const { hmacKey } = await createWahaConfig(sql, w);
  // A second tenant whose URL a delivery may be misdirected to.
  const other = await createTenant(sql, "prop-other");
  await createPmsConfig(sql, other, "generic", "standard_webhooks", newStandardSecret());
  await createPmsConfig(sql, other, "mews", "token", newToken());
  await createPmsConfig(sql, other, "apaleo", "basic", "apaleo:other-password-12");
  await createWahaConfig(sql, other);

  const withBody = (req: Request, body: Uint8Array<ArrayBuffer>) =>
    new Request(req.url, { method: "POST", headers: req.headers, body });
  const withHeader = (req: Request, name: string, value: string | null) => {
    const headers = new Headers(req.headers);
    if (value === null) headers.delete(name);
    else headers.set(name, value);
    return new Request(req.url, { method: "POST", headers, body: req.body });
  };
  const withUrl = (req: Request, url: string) =>
    new Request(url, { method: "POST", headers: req.headers, body: req.body });
  const flipByte: Mutation = async (req, rand) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const i = Math.floor(rand * body.length);
    body[i] ^= 1 + Math.floor(rand * 254);
    return withBody(req, body);
  };
  const append: Mutation = async (req) =>
    withBody(req, new Uint8Array([...new Uint8Array(await req.arrayBuffer()), 0x20]));
  const otherTenant: Mutation = (req) =>
    Promise.resolve(withUrl(req, req.url.replace(/\/[A-Za-z0-9_-]{16,64}(\?|$)/, `/${other.webhookKey}$1`)));
  const garbageHeader = (name: string): Mutation => (req, rand) =>
    Promise.resolve(withHeader(req, name, rand < 0.3 ? null : `v1,${btoa(String(rand))}`));

  const generic: Target = {
    name: "generic",
    tenant: g,
    path: `/pms-webhook/generic/${g.webhookKey}`,
    genuine: (marker) =>
      standardWebhookRequest(`/pms-webhook/generic/${g.webhookKey}`, genericBody(marker), gSecret, { id: marker }),
    mutations: [
      flipByte,
      append,
      otherTenant,
      garbageHeader("webhook-signature"),
      (req) => Promise.resolve(withHeader(req, "webhook-id", `${req.headers.get("webhook-id")}x`)),
      (req, rand) => {
        const ts = Number(req.headers.get("webhook-timestamp")) + (rand < 0.5 ? -1 : 1) * (1 + Math.floor(rand * 1000));
        return Promise.resolve(withHeader(req, "webhook-timestamp", String(ts)));
      },
      async (req, rand) => {
        // Correctly signed, but long ago or in the future.
        const body = await req.text();
        const skew = (rand < 0.5 ? -1 : 1) * (301 + Math.floor(rand * 86400));
        return standardWebhookRequest(new URL(req.url).pathname, body, gSecret, {
          id: req.headers.get("webhook-id")!,
          timestamp: Math.floor(Date.now() / 1000) + skew,
        });
      },
      async (req) => standardWebhookRequest(new URL(req.url).pathname, await req.text(), newStandardSecret()),
    ],
  };
  const mewsBody = (marker: string) =>
    JSON.stringify({
      ...sample("mews", "general-webhook"),
      Events: [{ Discriminator: "ServiceOrderUpdated", Value: { Id: marker } }],
    });
  const mews: Target = {
    name: "mews",
    tenant: m,
    path: `/pms-webhook/mews/${m.webhookKey}`,
    genuine: (marker) =>
      Promise.resolve(
        new Request(`${BASE}/pms-webhook/mews/${m.webhookKey}?token=${mToken}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: mewsBody(marker),
        }),
      ),
    mutations: [
      otherTenant,
      (req, rand) =>
        Promise.resolve(
          withUrl(req, req.url.replace(/token=[0-9a-f]+/, `token=${newToken().slice(0, 1 + Math.floor(rand * 47))}`)),
        ),
      (req) => Promise.resolve(withUrl(req, req.url.replace(/\?token=.*$/, ""))),
      (req) => Promise.resolve(withUrl(req, req.url.replace(/token=([0-9a-f]+)/, "token=$1x"))),
    ],
  };
  const apaleoBody = (marker: string) => JSON.stringify({ ...sample("apaleo", "reservation-created"), id: marker });
  const apaleo: Target = {
    name: "apaleo",
    tenant: a,
    path: `/pms-webhook/apaleo/${a.webhookKey}`,
    genuine: (marker) =>
      Promise.resolve(
        new Request(`${BASE}/pms-webhook/apaleo/${a.webhookKey}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Basic ${btoa("apaleo:prop-password-123")}` },
          body: apaleoBody(marker),
        }),
      ),
    mutations: [
      otherTenant,
      (req, rand) =>
        Promise.resolve(
          withHeader(req, "authorization", `Basic ${btoa(`apaleo:prop-password-12${Math.floor(rand * 9) + 4}`)}`),
        ),
      (req) => Promise.resolve(withHeader(req, "authorization", null)),
      (req) => Promise.resolve(withHeader(req, "authorization", `Bearer ${btoa("apaleo:prop-password-123")}`)),
    ],
  };
  const wahaBody = (marker: string) =>
    JSON.stringify({ ...sample("waha", "message-ack"), id: marker, timestamp: Date.now() });
  const waha: Target = {
    name: "waha",
    tenant: w,
    path: `/waha-webhook/${w.webhookKey}`,
    genuine: (marker) => wahaRequest(`/waha-webhook/${w.webhookKey}`, wahaBody(marker), hmacKey),
    mutations: [
      flipByte,
      append,
      otherTenant,
      garbageHeader("x-webhook-hmac"),
      async (req) => wahaRequest(new URL(req.url).pathname, await req.text(), `${hmacKey}0`),
      async (req, rand) => {
        // Correctly signed, but an event from long ago or the future.
        const body = JSON.parse(await req.text());
        body.timestamp += (rand < 0.5 ? -1 : 1) * (11 * 60_000 + Math.floor(rand * 86_400_000));
        return wahaRequest(new URL(req.url).pathname, JSON.stringify(body), hmacKey);
      },
    ],
  };
  return [generic, mews, apaleo, waha];
}

async function rows(sql: Sql, tenants: Tenant[]): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.inbound_events where tenant_id = any(${tenants.map((t) => t.id)}::uuid[])`;
  return row.n;
}

const deps = testDeps(sql);
const pms = pmsHandler(deps);
const waha = wahaHandler(deps);
const route = (req: Request) => (new URL(req.url).pathname.startsWith("/waha-webhook/") ? waha(req) : pms(req));
const targets = await setup();
const tenants = targets.map((t) => t.tenant);

Deno.test("mutated deliveries are refused and store nothing; their genuine twins are stored", opts, async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...targets),
      fc.nat(),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      async (target, which, rand) => {
        const marker = `prop-${target.name}-${run++}-${crypto.randomUUID()}`;
        const mutation = target.mutations[which % target.mutations.length];
        const before = await rows(sql, tenants);
        const mutated = await route(await mutation(await target.genuine(marker), rand));
        assert.ok(
          mutated.status >= 400 && mutated.status < 500,
          `mutation ${which % target.mutations.length} of ${target.name}: ${mutated.status}`,
        );
        await mutated.body?.cancel();
        assert.equal(await rows(sql, tenants), before, "a refused delivery stored something");
        const genuine = await route(await target.genuine(marker));
        if (genuine.status !== 202) assert.fail(`genuine ${target.name}: ${genuine.status} ${await genuine.text()}`);
        await genuine.body?.cancel();
        assert.equal(await rows(sql, tenants), before + 1);
      },
    ),
    { numRuns: RUNS },
  );
});

const methods = fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
const contentTypes = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "",
  "application/x-www-form-urlencoded",
  "application/cloudevents+json",
);
const headerNames = fc.constantFrom(
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "svix-id",
  "svix-signature",
  "x-webhook-hmac",
  "x-webhook-hmac-algorithm",
  "x-webhook-token",
  "authorization",
  "content-length",
  "content-encoding",
  "x-request-id",
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^v1,[A-Za-z0-9+/]{0,60}={0,2}$/),
  fc.nat().map(String),
);
const bodies = fc.oneof(
  fc.json({ depthSize: "medium" }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: "grapheme", maxLength: 500 }),
  fc.uint8Array({ maxLength: 600 }),
);

Deno.test("random requests never get a 5xx and never store anything", opts, async () => {
  const before = await rows(sql, tenants);
  const paths = fc.oneof(
    fc.constantFrom(...targets.map((t) => t.path), "/pms-webhook/", "/waha-webhook", "/pms-webhook/opera/x"),
    fc.tuple(fc.constantFrom("/pms-webhook/", "/waha-webhook/"), fc.webPath()).map(([a, b]) => a + b),
  );
  await fc.assert(
    fc.asyncProperty(
      methods,
      paths,
      contentTypes,
      fc.dictionary(headerNames, headerValue, { maxKeys: 6 }),
      bodies,
      async (method, path, contentType, headers, body) => {
        let req: Request;
        try {
          const h = new Headers({ ...headers, "content-type": contentType });
          req = new Request(`${BASE}${path}`, {
            method,
            headers: h,
            body: method === "GET" || method === "HEAD" ? null : body,
          });
        } catch {
          return; // not a request a client could send (e.g. an invalid header value)
        }
        const res = await route(req);
        if (res.status >= 500) assert.fail(`${method} ${path}: ${res.status} ${await res.text()}`);
        await res.body?.cancel();
      },
    ),
    { numRuns: RUNS },
  );
  assert.equal(await rows(sql, tenants), before);
});

Deno.test("authenticated requests with arbitrary JSON get 2xx or a 4xx, never a 5xx", opts, async () => {
  const [generic, , , wahaTarget] = targets;
  const genericSecret = await newestSecret("pms", "generic", generic.tenant);
  const wahaKey = await newestSecret("waha", "waha", wahaTarget.tenant);
  const weird = fc.oneof(
    fc.jsonValue(),
    fc.string({ unit: "binary", maxLength: 50 }).map((s) => ({ type: "reservation.created", data: { note: s } })),
    fc.integer({ min: 1, max: 200 }).map((n) => JSON.parse("[".repeat(n) + "]".repeat(n))),
    fc.constantFrom({ a: 1e308 }, { s: "\u0000" }, { s: "\ud800" }, { id: "" }, { id: "x".repeat(301) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.boolean(), weird, fc.string({ minLength: 1, maxLength: 320 }), async (toWaha, value, id) => {
      const text = JSON.stringify(value) ?? "null";
      const req = toWaha
        ? await wahaRequest(wahaTarget.path, text, wahaKey)
        : await standardWebhookRequest(generic.path, text, genericSecret, { id: id.replace(/[\r\n\0]/g, "") || "x" });
      const res = await route(req);
      if (![200, 202, 400, 401, 422].includes(res.status)) {
        assert.fail(`${res.status} ${await res.text()} for ${text.slice(0, 200)}`);
      }
      await res.body?.cancel();
    }),
    { numRuns: RUNS },
  );
});

async function newestSecret(source: string, provider: string, tenant: Tenant): Promise<string> {
  const [row] = await sql<{ secrets: string[] }[]>`
    select secrets from internal.webhook_auth_context_v1(${source}, ${provider}, ${tenant.webhookKey})`;
  return row.secrets[0];
}

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
