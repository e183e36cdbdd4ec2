// pms-webhook against the real migrated database: each auth scheme, each bad input, idempotency
// under concurrency, tenant isolation, request ids and the log line.
import assert from "node:assert/strict";
import { connect } from "../_shared/db.ts";
import { MAX_BODY_BYTES } from "../_shared/http.ts";
import {
  BASE,
  countEvents,
  createPmsConfig,
  createTenant,
  eventsOf,
  genericBody,
  newStandardSecret,
  newToken,
  sample,
  setPmsSecret,
  standardWebhookRequest,
  testDatabaseUrl,
  testDeps,
  testSql,
} from "../_testing/fixtures.ts";
import { createHandler } from "./handler.ts";

const sql = testSql();
const deps = testDeps(sql);
const handle = createHandler(deps);
const opts = { sanitizeOps: false, sanitizeResources: false };

async function genericTenant(label = "generic") {
  const tenant = await createTenant(sql, label);
  const secret = newStandardSecret();
  const configId = await createPmsConfig(sql, tenant, "generic", "standard_webhooks", secret);
  return { tenant, secret, configId, path: `/pms-webhook/generic/${tenant.webhookKey}` };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return await res.json();
}

function lastLine() {
  return deps.lines[deps.lines.length - 1];
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks (generic provider)
// ---------------------------------------------------------------------------------------------
Deno.test("generic: a signed event is stored once with its id, type, payload and request id", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  const body = genericBody("R-42");
  const req = await standardWebhookRequest(path, body, secret, {
    id: "msg_generic_1",
    headers: { "x-request-id": "req-generic-1" },
  });
  const res = await handle(req);
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("x-request-id"), "req-generic-1");
  assert.deepEqual(await json(res), { received: 1, stored: 1, duplicates: 0, request_id: "req-generic-1" });

  const [row] = await eventsOf(sql, tenant);
  assert.equal(row.source, "pms");
  assert.equal(row.provider, "generic");
  assert.equal(row.event_id, "msg_generic_1");
  assert.equal(row.event_type, "reservation.created");
  assert.equal(row.request_id, "req-generic-1");
  assert.equal(row.status, "pending");
  assert.deepEqual(row.payload, JSON.parse(body));

  const line = lastLine();
  assert.equal(line.requestId, "req-generic-1");
  assert.equal(line.tenantId, tenant.id);
  assert.equal(line.provider, "generic");
  assert.equal(line.eventType, "reservation.created");
  assert.equal(line.outcome, "stored");
  assert.equal(line.status, 202);
  assert.equal(typeof line.latencyMs, "number");

  const again = await handle(await standardWebhookRequest(path, body, secret, { id: "msg_generic_1" }));
  assert.equal(again.status, 200);
  assert.deepEqual({ ...(await json(again)), request_id: null }, {
    received: 1,
    stored: 0,
    duplicates: 1,
    request_id: null,
  });
  assert.equal(lastLine().outcome, "duplicate");
  assert.equal(await countEvents(sql, tenant), 1);
});

Deno.test("generic: without x-request-id a request id is generated, returned and stored", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  const res = await handle(await standardWebhookRequest(path, genericBody(), secret));
  assert.equal(res.status, 202);
  const requestId = res.headers.get("x-request-id");
  assert.match(requestId ?? "", /^[0-9a-f-]{36}$/);
  assert.equal((await json(res)).request_id, requestId);
  assert.equal((await eventsOf(sql, tenant))[0].request_id, requestId);
});

Deno.test(
  "generic: tampered body, wrong secret and old or future timestamps are 401 and store nothing",
  opts,
  async () => {
    const { tenant, secret, path } = await genericTenant();
    const body = genericBody();
    const signed = await standardWebhookRequest(path, body, secret);
    const tampered = new Request(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: body.replace("Ada", "Eve"),
    });
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      tampered,
      await standardWebhookRequest(path, body, newStandardSecret()),
      await standardWebhookRequest(path, body, secret, { timestamp: now - 301 }),
      await standardWebhookRequest(path, body, secret, { timestamp: now - 24 * 3600 }),
      await standardWebhookRequest(path, body, secret, { timestamp: now + 301 }),
      new Request(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body }),
    ];
    for (const req of cases) {
      const res = await handle(req);
      assert.equal(res.status, 401);
      assert.deepEqual((await json(res)).error, "unauthorized");
      assert.equal(lastLine().outcome, "rejected");
      assert.equal(lastLine().tenantId, tenant.id);
    }
    assert.equal(await countEvents(sql, tenant), 0);
  },
);

Deno.test("generic: during a rotation both secrets work, after it only the new one", opts, async () => {
  const { tenant, secret: oldSecret, configId, path } = await genericTenant();
  const newSecret = newStandardSecret();
  await setPmsSecret(sql, configId, newSecret, "1 hour");
  assert.equal((await handle(await standardWebhookRequest(path, genericBody(), oldSecret))).status, 202);
  assert.equal((await handle(await standardWebhookRequest(path, genericBody(), newSecret))).status, 202);
  // A sender mid-rotation signs with both; either match is enough.
  assert.equal((await handle(await standardWebhookRequest(path, genericBody(), [newSecret, oldSecret]))).status, 202);

  await setPmsSecret(sql, configId, newStandardSecret(), "0 seconds"); // newSecret is rotated out at once
  assert.equal((await handle(await standardWebhookRequest(path, genericBody(), newSecret))).status, 401);
  assert.equal((await handle(await standardWebhookRequest(path, genericBody(), oldSecret))).status, 401);
  assert.equal(await countEvents(sql, tenant), 3);
});

Deno.test("generic: an unknown tenant key gets the same 401 as a bad signature", opts, async () => {
  const { secret, path } = await genericTenant();
  const body = genericBody();
  const unknown = await handle(await standardWebhookRequest(`/pms-webhook/generic/${"x".repeat(22)}`, body, secret));
  const malformed = await handle(await standardWebhookRequest(`/pms-webhook/generic/short`, body, secret));
  const badSignature = await handle(await standardWebhookRequest(path, body, newStandardSecret()));
  const strip = async (res: Response) => ({ status: res.status, ...(await json(res)), request_id: null });
  const expected = await strip(badSignature);
  assert.deepEqual(await strip(unknown), expected);
  assert.deepEqual(await strip(malformed), expected);
  // ...and the same for a provider the tenant has not configured.
  const otherProvider = await handle(await standardWebhookRequest(path.replace("/generic/", "/guesty/"), body, secret));
  assert.deepEqual(await strip(otherProvider), expected);
});

Deno.test("generic: an inactive configuration accepts nothing", opts, async () => {
  const { tenant, secret, configId, path } = await genericTenant();
  await sql`update public.pms_configurations set is_active = false where id = ${configId}`;
  assert.equal((await handle(await standardWebhookRequest(path, genericBody(), secret))).status, 401);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("generic: a configuration without a secret accepts nothing, and the log says why", opts, async () => {
  const tenant = await createTenant(sql, "no-secret");
  await createPmsConfig(sql, tenant, "generic", "standard_webhooks");
  const res = await handle(
    await standardWebhookRequest(`/pms-webhook/generic/${tenant.webhookKey}`, genericBody(), newStandardSecret()),
  );
  assert.equal(res.status, 401);
  assert.match(String(lastLine().reason), /no active webhook secret/);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("generic: 50 concurrent deliveries of the same event store one row", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  const body = genericBody();
  const requests = await Promise.all(
    Array.from({ length: 50 }, () => standardWebhookRequest(path, body, secret, { id: "msg_concurrent" })),
  );
  const pool = connect(testDatabaseUrl(), { applicationName: "deno-tests-concurrency", max: 10 });
  const concurrent = createHandler({ ...testDeps(pool), sql: () => pool });
  try {
    const statuses = (await Promise.all(requests.map((r) => concurrent(r)))).map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 202).length, 1, `statuses: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 200).length, 49);
  } finally {
    await pool.end();
  }
  const rows = await eventsOf(sql, tenant);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].event_id, "msg_concurrent");
});

Deno.test("tenant A's delivery never lands in tenant B", opts, async () => {
  const a = await genericTenant("A");
  const b = await genericTenant("B");
  const body = genericBody();
  // A's PMS posting to B's URL (a misconfiguration or an attack) is refused...
  assert.equal((await handle(await standardWebhookRequest(b.path, body, a.secret, { id: "msg_iso" }))).status, 401);
  assert.equal(await countEvents(sql, b.tenant), 0);
  assert.equal(await countEvents(sql, a.tenant), 0);
  // ...and the same event id at each tenant's own URL is two rows, one per tenant.
  assert.equal((await handle(await standardWebhookRequest(a.path, body, a.secret, { id: "msg_iso" }))).status, 202);
  assert.equal((await handle(await standardWebhookRequest(b.path, body, b.secret, { id: "msg_iso" }))).status, 202);
  const [rowA] = await eventsOf(sql, a.tenant);
  const [rowB] = await eventsOf(sql, b.tenant);
  assert.equal(rowA.tenant_id, a.tenant.id);
  assert.equal(rowB.tenant_id, b.tenant.id);
});

// ---------------------------------------------------------------------------------------------
// Guesty (Svix-signed)
// ---------------------------------------------------------------------------------------------
Deno.test("guesty: svix-* headers verify and svix-id is the event id", opts, async () => {
  const tenant = await createTenant(sql, "guesty");
  const secret = newStandardSecret();
  await createPmsConfig(sql, tenant, "guesty", "standard_webhooks", secret);
  const path = `/pms-webhook/guesty/${tenant.webhookKey}`;
  for (const name of ["reservation-created-v2", "reservation-updated-v2"]) {
    const body = JSON.stringify(sample("guesty", name));
    const res = await handle(await standardWebhookRequest(path, body, secret, { id: `msg_${name}`, prefix: "svix" }));
    assert.equal(res.status, 202);
  }
  const rows = await eventsOf(sql, tenant);
  assert.deepEqual(rows.map((r) => [r.event_id, r.event_type]), [
    ["msg_reservation-created-v2", "reservation.created.v2"],
    ["msg_reservation-updated-v2", "reservation.updated.v2"],
  ]);
  const stale = await standardWebhookRequest(path, JSON.stringify(sample("guesty", "reservation-created-v2")), secret, {
    prefix: "svix",
    timestamp: Math.floor(Date.now() / 1000) - 600,
  });
  assert.equal((await handle(stale)).status, 401);
});

// ---------------------------------------------------------------------------------------------
// Token (Mews, Cloudbeds)
// ---------------------------------------------------------------------------------------------
function tokenRequest(path: string, body: string, token: string | null, where: "query" | "header" = "query") {
  const url = new URL(`${BASE}${path}`);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null && where === "query") url.searchParams.set("token", token);
  if (token !== null && where === "header") headers["x-webhook-token"] = token;
  return new Request(url, { method: "POST", headers, body });
}

Deno.test("mews: a batch becomes one row per event, each stored as a batch of one", opts, async () => {
  const tenant = await createTenant(sql, "mews");
  const token = newToken();
  await createPmsConfig(sql, tenant, "mews", "token", token);
  const path = `/pms-webhook/mews/${tenant.webhookKey}`;
  const batch = sample("mews", "general-webhook") as { EnterpriseId: string; IntegrationId: string; Events: unknown[] };
  const res = await handle(tokenRequest(path, JSON.stringify(batch), token));
  assert.equal(res.status, 202);
  assert.deepEqual({ ...(await json(res)), request_id: null }, {
    received: 5,
    stored: 5,
    duplicates: 0,
    request_id: null,
  });
  const rows = await eventsOf(sql, tenant);
  assert.deepEqual(rows.map((r) => r.event_type), [
    "ServiceOrderUpdated",
    "ResourceUpdated",
    "MessageAdded",
    "CustomerAdded",
    "CustomerUpdated",
  ]);
  rows.forEach((row, i) => {
    assert.match(row.event_id, /^mews:[0-9a-f]{64}:[0-9a-f-]{36}$/);
    assert.deepEqual(row.payload, {
      EnterpriseId: batch.EnterpriseId,
      IntegrationId: batch.IntegrationId,
      Events: [batch.Events[i]],
    });
  });
  assert.deepEqual(lastLine().eventType, rows.map((r) => r.event_type));
  // The same delivery again (a retry) changes nothing; the token may also come as a header.
  const retry = await handle(tokenRequest(path, JSON.stringify(batch), token, "header"));
  assert.equal(retry.status, 200);
  assert.equal(await countEvents(sql, tenant), 5);
});

Deno.test(
  "mews: a delivery is one event while an earlier one is queued, across a minute boundary too",
  opts,
  async () => {
    const tenant = await createTenant(sql, "mews-window");
    const token = newToken();
    await createPmsConfig(sql, tenant, "mews", "token", token);
    const path = `/pms-webhook/mews/${tenant.webhookKey}`;
    const event = (id: string) => ({ Discriminator: "ServiceOrderUpdated", Value: { Id: id } });
    const body = JSON.stringify({
      EnterpriseId: "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
      IntegrationId: "c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
      Events: [event("bfee2c44-1f84-4326-a862-5289598f6e2d"), event("7cccbdc6-73cf-4cd4-8056-6fd00f4d9699")],
    });
    // The case: the same delivery at +59.9 s and at +60.1 s.
    let now = Date.UTC(2026, 10, 26, 10, 15, 59, 900);
    const clocked = createHandler({ ...testDeps(sql, () => now) });
    assert.equal((await clocked(tokenRequest(path, body, token))).status, 202);
    now += 200;
    const again = await clocked(tokenRequest(path, body, token));
    assert.equal(again.status, 200);
    assert.deepEqual({ ...(await json(again)), request_id: null }, {
      received: 2,
      stored: 0,
      duplicates: 2,
      request_id: null,
    });
    assert.equal(await countEvents(sql, tenant), 2);

    // Once the worker has taken the events, the same content may announce a later change: stored.
    await sql`
    update public.inbound_events
    set status = 'processing', lease_owner = 'test-worker', lease_expires_at = now() + interval '1 minute'
    where tenant_id = ${tenant.id}`;
    assert.equal((await clocked(tokenRequest(path, body, token))).status, 202);
    assert.equal(await countEvents(sql, tenant), 4);

    // Copies arriving at the same moment are one event too.
    const fresh = JSON.stringify({ ...JSON.parse(body), Events: [event(crypto.randomUUID())] });
    const statuses = await Promise.all(Array.from({ length: 6 }, () => handle(tokenRequest(path, fresh, token))));
    await Promise.all(statuses.map((r) => r.body?.cancel()));
    assert.deepEqual(statuses.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 202]);
    assert.equal(await countEvents(sql, tenant), 5);
  },
);

Deno.test("mews: wrong, missing and rotated-out tokens are 401", opts, async () => {
  const tenant = await createTenant(sql, "mews-auth");
  const oldToken = newToken();
  const configId = await createPmsConfig(sql, tenant, "mews", "token", oldToken);
  const path = `/pms-webhook/mews/${tenant.webhookKey}`;
  const body = JSON.stringify(sample("mews", "general-webhook"));
  assert.equal((await handle(tokenRequest(path, body, newToken()))).status, 401);
  assert.equal((await handle(tokenRequest(path, body, null))).status, 401);
  const newTokenValue = newToken();
  await setPmsSecret(sql, configId, newTokenValue, "0 seconds");
  assert.equal((await handle(tokenRequest(path, body, oldToken))).status, 401);
  assert.equal(await countEvents(sql, tenant), 0);
  assert.equal((await handle(tokenRequest(path, body, newTokenValue))).status, 202);
});

Deno.test("cloudbeds: the event id is derived from the content", opts, async () => {
  const tenant = await createTenant(sql, "cloudbeds");
  const token = newToken();
  await createPmsConfig(sql, tenant, "cloudbeds", "token", token);
  const path = `/pms-webhook/cloudbeds/${tenant.webhookKey}`;
  const created = sample("cloudbeds", "reservation-created");
  // Key order and whitespace do not matter: the same event is recognised.
  assert.equal((await handle(tokenRequest(path, JSON.stringify(created), token))).status, 202);
  const reordered = JSON.stringify(Object.fromEntries(Object.entries(created).reverse()), null, 2);
  assert.equal((await handle(tokenRequest(path, reordered, token))).status, 200);
  // A later change of the same reservation has another timestamp: a new event.
  assert.equal(
    (await handle(tokenRequest(path, JSON.stringify({ ...created, timestamp: 1766005099.5 }), token))).status,
    202,
  );
  assert.equal(
    (await handle(tokenRequest(path, JSON.stringify(sample("cloudbeds", "reservation-status-changed")), token))).status,
    202,
  );
  const rows = await eventsOf(sql, tenant);
  assert.deepEqual(rows.map((r) => r.event_type), [
    "reservation/created",
    "reservation/created",
    "reservation/status_changed",
  ]);
  assert.ok(rows.every((r) => /^cloudbeds:[0-9a-f]{64}$/.test(r.event_id)));
});

// ---------------------------------------------------------------------------------------------
// Basic auth (Apaleo)
// ---------------------------------------------------------------------------------------------
function basicRequest(path: string, body: string, credentials: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (credentials !== null) headers.authorization = `Basic ${btoa(credentials)}`;
  return new Request(`${BASE}${path}`, { method: "POST", headers, body });
}

Deno.test(
  "apaleo: basic auth, Apaleo's own event id, and the health check answered without storing",
  opts,
  async () => {
    const tenant = await createTenant(sql, "apaleo");
    const configId = await createPmsConfig(sql, tenant, "apaleo", "basic", "apaleo:first-password-0001");
    const path = `/pms-webhook/apaleo/${tenant.webhookKey}`;
    const event = JSON.stringify(sample("apaleo", "reservation-created"));
    const health = JSON.stringify(sample("apaleo", "system-healthcheck"));

    const healthRes = await handle(basicRequest(path, health, "apaleo:first-password-0001"));
    assert.equal(healthRes.status, 200);
    assert.equal((await json(healthRes)).ignored, "apaleo health check");
    assert.equal(lastLine().outcome, "ignored");
    assert.equal(await countEvents(sql, tenant), 0);

    assert.equal((await handle(basicRequest(path, event, "apaleo:first-password-0001"))).status, 202);
    assert.equal((await handle(basicRequest(path, event, "apaleo:first-password-0001"))).status, 200);
    const [row] = await eventsOf(sql, tenant);
    assert.equal(row.event_id, "ec5a1fe4-331c-450a-915c-5caa231cc825");
    assert.equal(row.event_type, "reservation/created");

    assert.equal((await handle(basicRequest(path, health, "apaleo:wrong-password-0001"))).status, 401);
    assert.equal((await handle(basicRequest(path, health, null))).status, 401);
    await setPmsSecret(sql, configId, "apaleo:second-password-002", "0 seconds");
    assert.equal((await handle(basicRequest(path, health, "apaleo:first-password-0001"))).status, 401);
    assert.equal((await handle(basicRequest(path, health, "apaleo:second-password-002"))).status, 200);
  },
);

Deno.test("apaleo: the longest topic and type the schema allows are stored; longer ones are 422", opts, async () => {
  const tenant = await createTenant(sql, "apaleo-long");
  await createPmsConfig(sql, tenant, "apaleo", "basic", "apaleo:long-password-00001");
  const path = `/pms-webhook/apaleo/${tenant.webhookKey}`;
  const event = (topic: string, type: string) =>
    JSON.stringify({ ...(sample("apaleo", "reservation-created") as object), id: crypto.randomUUID(), topic, type });

  const longest = await handle(basicRequest(path, event("T".repeat(64), "t".repeat(64)), "apaleo:long-password-00001"));
  assert.equal(longest.status, 202);
  await longest.body?.cancel();
  assert.equal((await eventsOf(sql, tenant))[0].event_type, `${"t".repeat(64)}/${"t".repeat(64)}`);

  // The case: 100 and 100 characters (201 stored) used to pass the schema and fail the column.
  const tooLong = await handle(
    basicRequest(path, event("T".repeat(100), "t".repeat(100)), "apaleo:long-password-00001"),
  );
  assert.equal(tooLong.status, 422);
  assert.equal((await json(tooLong)).error, "schema_violation");
  assert.equal(await countEvents(sql, tenant), 1);
});

Deno.test("a value the table refuses is a 422 with the reason, not a 500, and nothing is stored", opts, async () => {
  const tenant = await createTenant(sql, "apaleo-constraint");
  await createPmsConfig(sql, tenant, "apaleo", "basic", "apaleo:constraint-pass-0001");
  const path = `/pms-webhook/apaleo/${tenant.webhookKey}`;
  // A stricter column for this tenant only stands in for any constraint the schema misses.
  const name = `test_event_type_${tenant.id.slice(0, 8)}`;
  await sql.unsafe(
    `alter table public.inbound_events add constraint ${name}
     check (tenant_id <> '${tenant.id}' or length(event_type) < 30) not valid`,
  );
  try {
    const body = JSON.stringify({
      ...(sample("apaleo", "reservation-created") as object),
      topic: "Reservation",
      type: "x".repeat(40),
    });
    const res = await handle(basicRequest(path, body, "apaleo:constraint-pass-0001"));
    assert.equal(res.status, 422);
    const answer = await json(res);
    assert.equal(answer.error, "unprocessable_payload");
    assert.match(String(answer.message), new RegExp(`cannot be stored: a value does not fit \\(${name}\\)`));
    assert.equal(lastLine().outcome, "rejected");
    assert.match(String(lastLine().reason), /^23514/);
    assert.equal(await countEvents(sql, tenant), 0);
  } finally {
    await sql.unsafe(`alter table public.inbound_events drop constraint ${name}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input: one test per case
// ---------------------------------------------------------------------------------------------
Deno.test("wrong method is 405 with Allow", opts, async () => {
  const { path } = await genericTenant();
  for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const res = await handle(new Request(`${BASE}${path}`, { method }));
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    await res.body?.cancel();
  }
});

Deno.test("an unknown provider or path is 404", opts, async () => {
  const { secret, tenant } = await genericTenant();
  for (
    const path of [
      `/pms-webhook/opera/${tenant.webhookKey}`,
      "/pms-webhook/generic",
      `/pms-webhook/generic/${tenant.webhookKey}/x`,
    ]
  ) {
    assert.equal((await handle(await standardWebhookRequest(path, genericBody(), secret))).status, 404);
  }
});

Deno.test("wrong content type is 415", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  const req = await standardWebhookRequest(path, genericBody(), secret, { headers: { "content-type": "text/plain" } });
  assert.equal((await handle(req)).status, 415);
  const form = await standardWebhookRequest(path, "a=b", secret, {
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal((await handle(form)).status, 415);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("a body over 256 KiB is 413 without being read", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  let pulled = 0;
  const huge = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 65536;
      controller.enqueue(new Uint8Array(65536).fill(0x20));
    },
  }, { highWaterMark: 0 });
  const signed = await standardWebhookRequest(path, "{}", secret);
  const headers = new Headers(signed.headers);
  const chunked = await handle(new Request(signed.url, { method: "POST", headers, body: huge }));
  assert.equal(chunked.status, 413);
  assert.ok(pulled <= MAX_BODY_BYTES + 65536, `read ${pulled} bytes`);

  headers.set("content-length", String(MAX_BODY_BYTES + 1));
  let touched = false;
  const declared = new ReadableStream<Uint8Array>({ pull: () => void (touched = true) }, { highWaterMark: 0 });
  assert.equal((await handle(new Request(signed.url, { method: "POST", headers, body: declared }))).status, 413);
  assert.equal(touched, false);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("invalid JSON is 400", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  for (const body of ['{"type": "reservation.created",', "", "\u00ff\u00fe", "NaN"]) {
    const res = await handle(await standardWebhookRequest(path, body, secret));
    assert.equal(res.status, 400, body);
    assert.equal((await json(res)).error, "invalid_json");
  }
  const notUtf8 = await handle(await standardWebhookRequest(path, new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), secret));
  assert.equal(notUtf8.status, 400);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("JSON that fails the provider's schema is 422 with the reason", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  const body = JSON.parse(genericBody());
  body.data.arrival_date = "20 December";
  const res = await handle(await standardWebhookRequest(path, JSON.stringify(body), secret));
  assert.equal(res.status, 422);
  const answer = await json(res);
  assert.equal(answer.error, "schema_violation");
  assert.match(answer.message as string, /\/data\/arrival_date must match pattern/);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("JSON that PostgreSQL cannot store is 422, not 500", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  for (const name of ['"Ada\\u0000"', '"\\udc00"']) {
    const body = genericBody().replace('"Ada Lovelace"', name);
    const res = await handle(await standardWebhookRequest(path, body, secret));
    assert.equal(res.status, 422, name);
  }
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("a generic event without webhook-id is 422 under the token scheme", opts, async () => {
  const tenant = await createTenant(sql, "generic-token");
  const token = newToken();
  await createPmsConfig(sql, tenant, "generic", "token", token);
  const res = await handle(tokenRequest(`/pms-webhook/generic/${tenant.webhookKey}`, genericBody(), token));
  assert.equal(res.status, 422);
  assert.match((await json(res)).message as string, /webhook-id/);
});

Deno.test("a stale or future timestamp is 401", opts, async () => {
  const { tenant, secret, path } = await genericTenant();
  const now = Math.floor(Date.now() / 1000);
  for (const timestamp of [now - 400, now + 400]) {
    assert.equal((await handle(await standardWebhookRequest(path, genericBody(), secret, { timestamp }))).status, 401);
    assert.match(String(lastLine().reason), /timestamp/);
  }
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("an unreachable database is 503 with Retry-After, never a 2xx", opts, async () => {
  const { secret, path } = await genericTenant();
  const down = connect("postgresql://postgres@127.0.0.1:1/postgres", { applicationName: "deno-tests-down" });
  const lines: Record<string, unknown>[] = [];
  const unreachable = createHandler({ sql: () => down, now: Date.now, log: (l) => lines.push(l) });
  try {
    const res = await unreachable(await standardWebhookRequest(path, genericBody(), secret));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "30");
    assert.equal((await json(res)).error, "unavailable");
    assert.equal(lines[0].outcome, "unavailable");
  } finally {
    await down.end();
  }
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
