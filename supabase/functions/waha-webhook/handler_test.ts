// waha-webhook against the real migrated database: WAHA's HMAC, key rotation, replay window,
// the three event types the worker consumes, and bad input.
import assert from "node:assert/strict";
import {
  BASE,
  countEvents,
  createTenant,
  createWahaConfig,
  eventsOf,
  rotateWahaKey,
  sample,
  testDeps,
  testSql,
  wahaRequest,
} from "../_testing/fixtures.ts";
import { createHandler, WAHA_MAX_AGE_MS, WAHA_MAX_SKEW_MS } from "./handler.ts";

const sql = testSql();
const deps = testDeps(sql);
const handle = createHandler(deps);
const opts = { sanitizeOps: false, sanitizeResources: false };

async function wahaTenant(label = "waha") {
  const tenant = await createTenant(sql, label);
  const { configId, hmacKey } = await createWahaConfig(sql, tenant);
  return { tenant, configId, hmacKey, path: `/waha-webhook/${tenant.webhookKey}` };
}

/** A WAHA event as WAHA would send it now, with a fresh event id. */
function event(name: "message-ack" | "session-status" | "message", changes: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ...sample("waha", name),
    id: `evt_${crypto.randomUUID()}`,
    timestamp: Date.now(),
    ...changes,
  });
}

Deno.test("message.ack, session.status and message are stored once, keyed by WAHA's event id", opts, async () => {
  const { tenant, hmacKey, path } = await wahaTenant();
  const bodies = [event("session-status"), event("message"), event("message-ack")];
  for (const body of bodies) {
    const res = await handle(await wahaRequest(path, body, hmacKey, { "x-request-id": "waha-req-1" }));
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("x-request-id"), "waha-req-1");
  }
  const rows = await eventsOf(sql, tenant);
  assert.deepEqual(
    rows.map((r) => [r.source, r.provider, r.event_type, r.event_id, r.request_id]),
    bodies.map((b) => {
      const parsed = JSON.parse(b);
      return ["waha", "waha", parsed.event, parsed.id, "waha-req-1"];
    }),
  );
  assert.deepEqual(rows[2].payload, JSON.parse(bodies[2]));
  const line = deps.lines[deps.lines.length - 1];
  assert.deepEqual([line.tenantId, line.provider, line.eventType, line.outcome], [
    tenant.id,
    "waha",
    "message.ack",
    "stored",
  ]);
  // WAHA retrying a delivery it did not see acknowledged changes nothing.
  assert.equal((await handle(await wahaRequest(path, bodies[2], hmacKey))).status, 200);
  assert.equal(await countEvents(sql, tenant), 3);
});

Deno.test("a tampered body, a wrong key, a missing HMAC and another algorithm are 401", opts, async () => {
  const { tenant, hmacKey, path } = await wahaTenant();
  const body = event("message-ack");
  const signed = await wahaRequest(path, body, hmacKey);
  const cases = [
    new Request(signed.url, { method: "POST", headers: signed.headers, body: body.replace('"ack":3', '"ack":4') }),
    await wahaRequest(path, body, "not-the-session-key"),
    new Request(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body }),
    await wahaRequest(path, body, hmacKey, { "x-webhook-hmac-algorithm": "sha256" }),
  ];
  for (const req of cases) assert.equal((await handle(req)).status, 401);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("after a rotation the previous key works for its grace period, then not at all", opts, async () => {
  const { tenant, configId, hmacKey: first, path } = await wahaTenant();
  const second = await rotateWahaKey(sql, configId, "10 minutes");
  assert.equal((await handle(await wahaRequest(path, event("message-ack"), first))).status, 202);
  assert.equal((await handle(await wahaRequest(path, event("message-ack"), second))).status, 202);
  const third = await rotateWahaKey(sql, configId, "0 seconds");
  assert.equal((await handle(await wahaRequest(path, event("message-ack"), first))).status, 401);
  assert.equal((await handle(await wahaRequest(path, event("message-ack"), second))).status, 401);
  assert.equal((await handle(await wahaRequest(path, event("message-ack"), third))).status, 202);
  assert.equal(await countEvents(sql, tenant), 3);
});

Deno.test("a replayed old event or one from the future is 401 even with a valid HMAC", opts, async () => {
  const { tenant, hmacKey, path } = await wahaTenant();
  const old = event("message-ack", { timestamp: Date.now() - WAHA_MAX_AGE_MS - 1000 });
  const future = event("message-ack", { timestamp: Date.now() + WAHA_MAX_SKEW_MS + 1000 });
  assert.equal((await handle(await wahaRequest(path, old, hmacKey))).status, 401);
  assert.equal((await handle(await wahaRequest(path, future, hmacKey))).status, 401);
  assert.equal(await countEvents(sql, tenant), 0);
  const recent = event("message-ack", { timestamp: Date.now() - WAHA_MAX_AGE_MS + 60_000 });
  assert.equal((await handle(await wahaRequest(path, recent, hmacKey))).status, 202);
});

Deno.test("an unknown tenant key is the same 401 as a bad HMAC", opts, async () => {
  const { hmacKey, path } = await wahaTenant();
  const body = event("message-ack");
  const strip = async (res: Response) => ({ status: res.status, ...(await res.json()), request_id: null });
  const unknown = await strip(await handle(await wahaRequest(`/waha-webhook/${"k".repeat(24)}`, body, hmacKey)));
  const wrong = await strip(await handle(await wahaRequest(path, body, "wrong-key")));
  assert.deepEqual(unknown, wrong);
  assert.equal(unknown.status, 401);
});

Deno.test("one tenant's WAHA key does not open another tenant's URL", opts, async () => {
  const a = await wahaTenant("A");
  const b = await wahaTenant("B");
  assert.equal((await handle(await wahaRequest(b.path, event("message"), a.hmacKey))).status, 401);
  assert.equal(await countEvents(sql, a.tenant), 0);
  assert.equal(await countEvents(sql, b.tenant), 0);
});

Deno.test("bad input: 405, 404, 415, 400 and 422 with the reason", opts, async () => {
  const { tenant, hmacKey, path } = await wahaTenant();
  const get = await handle(new Request(`${BASE}${path}`));
  assert.equal(get.status, 405);
  await get.body?.cancel();
  assert.equal((await handle(await wahaRequest(`${path}/extra`, event("message"), hmacKey))).status, 404);
  const text = await wahaRequest(path, event("message"), hmacKey, { "content-type": "text/plain" });
  assert.equal((await handle(text)).status, 415);
  assert.equal((await handle(await wahaRequest(path, "{nope", hmacKey))).status, 400);

  const missingAck = JSON.parse(event("message-ack"));
  delete missingAck.payload.ack;
  const res = await handle(await wahaRequest(path, JSON.stringify(missingAck), hmacKey));
  assert.equal(res.status, 422);
  assert.match((await res.json()).message, /\/payload must have required property 'ack'/);
  const noId = JSON.parse(event("message"));
  delete noId.id;
  assert.equal((await handle(await wahaRequest(path, JSON.stringify(noId), hmacKey))).status, 422);
  assert.equal(await countEvents(sql, tenant), 0);
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
