// The fuzz suite: property-based requests over real HTTP to the local functions server
// (serve.ts, the gateway path /functions/v1/<name>) on the real migrated database, covering
// every endpoint: pms-webhook with each provider and scheme, waha-webhook, waha-session, the
// gateway's own paths. Methods (TRACE and TRACK too, over a raw socket), headers, sizes,
// encodings, credentials and tokens vary. It asserts what a sender or attacker would notice:
//
//   * no 5xx, except a deliberate 503 that says Retry-After;
//   * nothing that is not correctly signed gets a 2xx or stores a row;
//   * every correctly signed delivery is stored exactly once (and its replay changes nothing).
//
// Fixed seed (FUZZ_SEED) and a fixed budget of requests (FUZZ_REQUESTS, default 3000), so a
// failure reproduces; fast-check prints the counterexample.
import assert from "node:assert/strict";
import fc from "fast-check";
import { SignJWT } from "jose";
import { serveFunctions } from "./serve.ts";
import {
  accessToken,
  BASE,
  createMember,
  createPmsConfig,
  createTenant,
  createWahaConfig,
  genericBody,
  newStandardSecret,
  newToken,
  sample,
  standardWebhookRequest,
  type Tenant,
  TEST_JWT_SECRET,
  testDatabaseUrl,
  testSql,
  wahaRequest,
} from "./_testing/fixtures.ts";
import { type RawRequest, rawRequest, type RawResponse } from "./_testing/raw_http.ts";
import { ACTIONS } from "./waha-session/handler.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261202);
const BUDGET = Number(Deno.env.get("FUZZ_REQUESTS") ?? 3000);
const opts = { sanitizeOps: false, sanitizeResources: false };
const sql = testSql();
const encoder = new TextEncoder();

const controller = new AbortController();
const { server } = serveFunctions({
  databaseUrl: testDatabaseUrl(),
  port: 0,
  jwtSecret: TEST_JWT_SECRET,
  // As deployed: the tenants' WAHA URL below (127.0.0.1) is refused, so no action calls out.
  allowLocalUrls: false,
  signal: controller.signal,
  log: () => {},
});
const port = server.addr.port;

// ---- the tenants and their genuine deliveries -----------------------------------------------

type Credential = "body-bound" | "token" | "basic";

interface Target {
  name: string;
  tenant: Tenant;
  /** Whether the credential covers the body (a changed body must then be refused). */
  credential: Credential;
  genuine(marker: string): Promise<RawRequest>;
}

async function toRaw(req: Request): Promise<RawRequest> {
  const url = new URL(req.url);
  return {
    method: req.method,
    target: `/functions/v1${url.pathname}${url.search}`,
    headers: [...req.headers.entries()],
    body: new Uint8Array(await req.arrayBuffer()),
  };
}

const json = (path: string, body: string, headers: Record<string, string>) =>
  new Request(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

async function setup(): Promise<{ targets: Target[]; other: Tenant }> {
  const other = await createTenant(sql, "fuzz-other");
  await createPmsConfig(sql, other, "generic", "standard_webhooks", newStandardSecret());
  await createPmsConfig(sql, other, "mews", "token", newToken());
  await createPmsConfig(sql, other, "apaleo", "basic", "apaleo:other-password-0001");
  await createWahaConfig(sql, other);

  const g = await createTenant(sql, "fuzz-generic");
  const gSecret = newStandardSecret();
  await createPmsConfig(sql, g, "generic", "standard_webhooks", gSecret);
  const gy = await createTenant(sql, "fuzz-guesty");
  const gySecret = newStandardSecret();
  await createPmsConfig(sql, gy, "guesty", "standard_webhooks", gySecret);
  const a = await createTenant(sql, "fuzz-apaleo");
  await createPmsConfig(sql, a, "apaleo", "basic", "apaleo:fuzz-password-0001");
  const m = await createTenant(sql, "fuzz-mews");
  const mToken = newToken();
  await createPmsConfig(sql, m, "mews", "token", mToken);
  const c = await createTenant(sql, "fuzz-cloudbeds");
  const cToken = newToken();
  await createPmsConfig(sql, c, "cloudbeds", "token", cToken);
  const w = await createTenant(sql, "fuzz-waha");
  const { hmacKey } = await createWahaConfig(sql, w);

  let n = 0;
  const targets: Target[] = [
    {
      name: "generic",
      tenant: g,
      credential: "body-bound",
      genuine: async (marker) =>
        toRaw(
          await standardWebhookRequest(`/pms-webhook/generic/${g.webhookKey}`, genericBody(marker), gSecret, {
            id: marker,
          }),
        ),
    },
    {
      name: "guesty (svix headers)",
      tenant: gy,
      credential: "body-bound",
      genuine: async (marker) => {
        const body = sample("guesty", "reservation-updated-v2") as { reservation: Record<string, unknown> };
        const text = JSON.stringify({ ...body, reservation: { ...body.reservation, _id: marker } });
        return toRaw(
          await standardWebhookRequest(`/pms-webhook/guesty/${gy.webhookKey}`, text, gySecret, {
            id: marker,
            prefix: n++ % 2 === 0 ? "svix" : "webhook",
          }),
        );
      },
    },
    {
      name: "apaleo (basic)",
      tenant: a,
      credential: "basic",
      genuine: (marker) =>
        toRaw(json(
          `/pms-webhook/apaleo/${a.webhookKey}`,
          JSON.stringify({ ...sample("apaleo", "reservation-created"), id: marker }),
          { authorization: `Basic ${btoa("apaleo:fuzz-password-0001")}` },
        )),
    },
    {
      name: "mews (token in query, bearer or header)",
      tenant: m,
      credential: "token",
      genuine: (marker) => {
        const body = JSON.stringify({
          ...sample("mews", "general-webhook"),
          Events: [{ Discriminator: "ServiceOrderUpdated", Value: { Id: marker } }],
        });
        const way = n++ % 3;
        const path = `/pms-webhook/mews/${m.webhookKey}${way === 0 ? `?token=${mToken}` : ""}`;
        const headers: Record<string, string> = way === 1
          ? { authorization: `Bearer ${mToken}` }
          : way === 2
          ? { "x-webhook-token": mToken }
          : {};
        return toRaw(json(path, body, headers));
      },
    },
    {
      name: "cloudbeds (token)",
      tenant: c,
      credential: "token",
      genuine: (marker) =>
        toRaw(json(
          `/pms-webhook/cloudbeds/${c.webhookKey}?token=${cToken}`,
          JSON.stringify({ ...sample("cloudbeds", "reservation-created"), reservationID: marker }),
          {},
        )),
    },
    {
      name: "waha (hmac)",
      tenant: w,
      credential: "body-bound",
      genuine: async (marker) =>
        toRaw(
          await wahaRequest(
            `/waha-webhook/${w.webhookKey}`,
            JSON.stringify({ ...sample("waha", "message-ack"), id: marker, timestamp: Date.now() }),
            hmacKey,
          ),
        ),
    },
  ];
  return { targets, other };
}

const { targets, other } = await setup();
const tenantIds = [...targets.map((t) => t.tenant.id), other.id];

async function rowsOfFuzzTenants(): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.inbound_events where tenant_id = any(${tenantIds}::uuid[])`;
  return row.n;
}

async function rowsWith(marker: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.inbound_events
    where tenant_id = any(${tenantIds}::uuid[]) and (event_id = ${marker} or strpos(payload::text, ${marker}) > 0)`;
  return row.n;
}

let sent = 0;
async function send(request: RawRequest): Promise<RawResponse> {
  sent += 1;
  return await rawRequest(port, request);
}

/** The one rule for every answer: no 5xx except a 503 that tells when to come back. */
function assertNoServerError(response: RawResponse, what: string): void {
  assert.notEqual(response.status, 0, `${what}: no answer`);
  if (response.status >= 500) {
    assert.ok(
      response.status === 503 && response.headers.has("retry-after"),
      `${what}: ${response.status}`,
    );
  }
}

// ---- forgeries of genuine deliveries ----------------------------------------------------------

const CREDENTIAL_HEADERS = [
  "authorization",
  "webhook-signature",
  "svix-signature",
  "x-webhook-hmac",
  "x-webhook-token",
];

type Forgery = (req: RawRequest, rand: number) => RawRequest;

function withHeaders(req: RawRequest, change: (h: [string, string][]) => [string, string][]): RawRequest {
  return { ...req, headers: change(req.headers.map(([n, v]) => [n, v])) };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * `text` with one character changed so that what it decodes to changes too: hex digits flip a
 * nibble's high bit, base64 digits a group's high bit, and the last data character (whose
 * low bits may be padding) is left alone.
 */
function alter(text: string, rand: number): string {
  const data = text.replace(/=+$/, "");
  const at = Math.floor(rand * Math.max(data.length - 1, 1));
  const ch = text[at];
  let replacement: string;
  if (/^[0-9a-fA-F]+$/.test(text)) replacement = (parseInt(ch, 16) ^ 8).toString(16);
  else if (B64.includes(ch)) replacement = B64[B64.indexOf(ch) ^ 32];
  else replacement = ch === "A" ? "B" : "A";
  return text.slice(0, at) + replacement + text.slice(at + 1);
}

const forgeries: Record<string, Forgery> = {
  "credentials removed": (req) => ({
    ...withHeaders(req, (h) => h.filter(([n]) => !CREDENTIAL_HEADERS.includes(n.toLowerCase()))),
    target: req.target.replace(/[?&]token=[^&]*/, ""),
  }),
  "credential altered": (req, rand) => {
    if (/[?&]token=/.test(req.target)) {
      return { ...req, target: req.target.replace(/token=([^&]*)/, (_, t: string) => `token=${alter(t, rand)}`) };
    }
    return withHeaders(req, (h) =>
      h.map(([n, v]) => {
        const name = n.toLowerCase();
        if (name === "authorization" && v.startsWith("Basic ")) {
          return [n, `Basic ${btoa(alter(atob(v.slice(6)), rand))}`];
        }
        if (CREDENTIAL_HEADERS.includes(name)) {
          // Keep a signature's "v1," prefix so the value stays well-formed.
          const prefix = v.match(/^(v1,|Bearer )/)?.[0] ?? "";
          return [n, prefix + alter(v.slice(prefix.length), rand)];
        }
        return [n, v];
      }));
  },
  "sent to another tenant": (req) => ({
    ...req,
    target: req.target.replace(/\/[A-Za-z0-9_-]{16,64}(\?|$)/, `/${other.webhookKey}$1`),
  }),
  "stale timestamp": (req, rand) =>
    withHeaders(
      req,
      (h) =>
        h.map(([n, v]) =>
          /^(webhook|svix)-timestamp$/i.test(n) ? [n, String(Number(v) - 301 - Math.floor(rand * 86400))] : [n, v]
        ),
    ),
};

const bodyForgeries: Record<string, Forgery> = {
  "a body byte changed": (req, rand) => {
    const body = new Uint8Array(req.body!);
    body[Math.floor(rand * body.length)] ^= 1 + Math.floor(rand * 254);
    return { ...req, body };
  },
  "a byte appended": (req) => ({ ...req, body: new Uint8Array([...req.body!, 0x20]) }),
};

Deno.test("forged deliveries are refused and store nothing; the genuine one is stored exactly once", opts, async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...targets),
      fc.nat(),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      async (target, which, rand) => {
        const marker = `fz-${run++}-${crypto.randomUUID()}`;
        const applicable = {
          ...forgeries,
          ...(target.credential === "body-bound" ? bodyForgeries : {}),
        };
        const names = Object.keys(applicable).filter((name) =>
          name !== "stale timestamp" || target.credential === "body-bound" && !target.name.startsWith("waha")
        );
        const name = names[which % names.length];
        const genuine = await target.genuine(marker);
        const before = await rowsOfFuzzTenants();
        const forged = await send(applicable[name](genuine, rand));
        assertNoServerError(forged, `${target.name}, ${name}`);
        assert.ok(forged.status >= 400, `${target.name}, ${name}: ${forged.status} for a forgery`);
        assert.equal(await rowsOfFuzzTenants(), before, `${target.name}, ${name}: a forgery stored a row`);

        const accepted = await send(genuine);
        assert.equal(accepted.status, 202, `${target.name}: genuine delivery answered ${accepted.status}`);
        const replayed = await send(genuine);
        assert.equal(replayed.status, 200, `${target.name}: replay answered ${replayed.status}`);
        assert.equal(await rowsWith(marker), 1, `${target.name}: the genuine delivery is not stored exactly once`);
      },
    ),
    { numRuns: Math.round(BUDGET * 0.12), seed: SEED },
  );
});

// ---- anything at all, over a raw socket -------------------------------------------------------

const FUNCTION_NAMES = ["pms-webhook", "waha-webhook", "waha-session"];
const BUILT_INS = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "prototype",
  "__defineGetter__",
];

const methods = fc.oneof(
  { weight: 4, arbitrary: fc.constant("POST") },
  {
    weight: 4,
    arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "TRACK", "PROPFIND"),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z][A-Z-]{0,11}$/) },
);

const keys = fc.oneof(
  fc.constantFrom(...targets.map((t) => t.tenant.webhookKey), other.webhookKey),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,70}$/),
);

const paths = fc.oneof(
  fc.tuple(fc.constantFrom("generic", "apaleo", "mews", "cloudbeds", "guesty", "opera", "", "%2e%2e"), keys).map((
    [p, k],
  ) => `/functions/v1/pms-webhook/${p}/${k}`),
  keys.map((k) => `/functions/v1/waha-webhook/${k}`),
  fc.constantFrom("/functions/v1/waha-session", "/functions/v1/waha-session/", "/health", "/", "/functions/v1/"),
  fc.tuple(fc.constantFrom(...BUILT_INS, ...FUNCTION_NAMES, "PMS-WEBHOOK", "%70ms-webhook"), fc.webPath()).map((
    [name, rest],
  ) => `/functions/v1/${name}${rest}`),
  fc.webPath().map((p) => p || "/"),
);

const queries = fc.oneof(
  fc.constant(""),
  fc.constantFrom(...targets.map(() => `?token=${newToken()}`), "?token=", "?token=%00", "?a=1&a=2"),
  fc.webQueryParameters().map((q) => (q ? `?${q}` : "")),
);

const visible = fc.stringMatching(/^[\x20-\x7e]{0,120}$/);
const headerValues = fc.oneof(
  visible,
  fc.stringMatching(/^v1,[A-Za-z0-9+/]{0,88}={0,2}( v1,[A-Za-z0-9+/]{0,44})?$/),
  fc.stringMatching(/^(Bearer|Basic) [A-Za-z0-9+/=._-]{0,120}$/),
  fc.nat().map(String),
  fc.constant("x".repeat(6000)),
);
const headerNames = fc.constantFrom(
  "content-type",
  "content-encoding",
  "content-length",
  "authorization",
  "apikey",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "svix-id",
  "svix-timestamp",
  "svix-signature",
  "x-webhook-hmac",
  "x-webhook-hmac-algorithm",
  "x-webhook-token",
  "x-request-id",
  "expect",
);
const contentTypes = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "application/cloudevents+json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
);

const bodies = fc.oneof(
  fc.json({ depthSize: "medium" }).map((s) => encoder.encode(s)),
  fc.jsonValue().map((v) => encoder.encode(JSON.stringify(v) ?? "null")),
  fc.string({ unit: "grapheme", maxLength: 300 }).map((s) => encoder.encode(s)),
  fc.uint8Array({ maxLength: 600 }),
  // Invalid UTF-8, a UTF-16 body with its BOM, gzip's magic bytes, deep nesting, an empty body.
  fc.constantFrom(
    new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    new Uint8Array([0x1f, 0x8b, 0x08, 0x00]),
    encoder.encode("[".repeat(5000) + "]".repeat(5000)),
    encoder.encode(`{"a":${"1".repeat(400)}}`),
    new Uint8Array(0),
  ),
  // Sizes around the 256 KiB cap.
  fc.constantFrom(256 * 1024, 256 * 1024 + 1, 600 * 1024).map((n) => new Uint8Array(n).fill(0x20)),
);

Deno.test("random requests to any path get no 5xx, no 2xx that stores, and store nothing", opts, async () => {
  const before = await rowsOfFuzzTenants();
  await fc.assert(
    fc.asyncProperty(
      methods,
      paths,
      queries,
      contentTypes,
      fc.array(fc.tuple(headerNames, headerValues), { maxLength: 6 }),
      bodies,
      async (method, path, query, contentType, headers, body) => {
        // A Content-Length claiming more than is sent would only make the server wait.
        const sane = headers.filter(([n, v]) => n !== "content-length" || !/^\d+$/.test(v) || Number(v) <= body.length);
        const response = await send({
          method,
          target: `${path}${query}`,
          headers: [["content-type", contentType], ...sane],
          body,
          noContentLength: sane.some(([n]) => n === "content-length"),
        });
        assertNoServerError(response, `${method} ${path}${query}`);
        if (response.status >= 200 && response.status < 300) {
          // Only answers that store nothing may be 2xx here: the health check and CORS preflights.
          assert.ok(
            (path === "/health" && ["GET", "HEAD"].includes(method)) || method === "OPTIONS",
            `${method} ${path}: ${response.status}`,
          );
        }
      },
    ),
    { numRuns: Math.round(BUDGET * 0.45), seed: SEED },
  );
  assert.equal(await rowsOfFuzzTenants(), before, "a random request stored something");
});

// ---- waha-session: tokens and commands --------------------------------------------------------

const sessionTenant = targets.find((t) => t.name.startsWith("waha"))!.tenant;
const members = {
  owner: await createMember(sql, sessionTenant, "owner"),
  admin: await createMember(sql, sessionTenant, "admin"),
  staff: await createMember(sql, sessionTenant, "staff"),
  outsider: await createMember(sql, other, "owner"),
};

function unsigned(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

const forgedTokens: Promise<string>[] = [
  accessToken(members.owner, { secret: "another-projects-secret-of-at-least-32-chars" }),
  accessToken(members.owner, { expiresIn: "-1m" }),
  accessToken(members.owner, { role: "anon" }),
  accessToken(members.owner, { role: "service_role" }),
  Promise.resolve(unsigned({ sub: members.owner, role: "authenticated", aud: "authenticated", exp: 9999999999 })),
  new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setSubject("not-a-uuid")
    .setAudience("authenticated").setExpirationTime("1h").sign(encoder.encode(TEST_JWT_SECRET)),
  new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS512" }).setSubject(members.owner)
    .setAudience("authenticated").setExpirationTime("1h").sign(encoder.encode(TEST_JWT_SECRET.repeat(2))),
  Promise.resolve("not.a.jwt"),
  Promise.resolve(""),
];
const forgedTokenList = await Promise.all(forgedTokens);
const valid = {
  owner: await accessToken(members.owner),
  admin: await accessToken(members.admin),
  staff: await accessToken(members.staff),
  outsider: await accessToken(members.outsider),
};

Deno.test("waha-session: forged tokens are 401, nobody gets a 2xx that calls out, never a 5xx", opts, async () => {
  const command = fc.record({
    action: fc.oneof(fc.constantFrom(...ACTIONS), visible, fc.constant(null)),
    tenant_id: fc.oneof(fc.constantFrom(sessionTenant.id, other.id), fc.uuid(), visible),
    phone_number: fc.oneof(fc.constant("+4930123456789"), visible),
    rotate_webhook_secret: fc.oneof(fc.boolean(), visible),
  }, { requiredKeys: [] });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.constantFrom(...forgedTokenList).map((t) => ({ token: t, forged: true })),
        fc.constantFrom(...Object.values(valid)).map((t) => ({ token: t, forged: false })),
      ),
      fc.constantFrom("POST", "POST", "POST", "GET", "OPTIONS", "PUT"),
      fc.oneof(command.map((c) => encoder.encode(JSON.stringify(c))), bodies),
      contentTypes,
      async ({ token, forged }, method, body, contentType) => {
        const response = await send({
          method,
          target: "/functions/v1/waha-session",
          headers: [["content-type", contentType], ["authorization", `Bearer ${token}`]],
          body,
        });
        assertNoServerError(response, `waha-session ${method}`);
        if (method === "POST") {
          assert.ok(response.status >= 400, `waha-session POST answered ${response.status}`);
          if (forged) assert.equal(response.status, 401, "a forged token got past authentication");
        }
      },
    ),
    { numRuns: Math.round(BUDGET * 0.2), seed: SEED },
  );
});

Deno.test("the fuzz budget was spent", opts, () => {
  // 3 requests per forgery run, 1 per random and waha-session run.
  assert.ok(sent >= BUDGET * 0.95, `only ${sent} requests were sent`);
});

Deno.test("stop the server and close the test database client", opts, async () => {
  controller.abort();
  await server.finished;
  await sql.end();
});
