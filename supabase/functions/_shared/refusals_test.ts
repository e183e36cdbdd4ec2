// Refusals at the edge become per-minute counters: a flood is a few upserts, each 4xx is
// counted by tenant (when the key is known), provider, status and reason, nothing of the body
// is kept. Against the real migrated database, through the real pms-webhook handler.
import assert from "node:assert/strict";
import {
  createPmsConfig,
  createTenant,
  genericBody,
  newStandardSecret,
  standardWebhookRequest,
  testDeps,
  testSql,
} from "../_testing/fixtures.ts";
import { createHandler } from "../pms-webhook/handler.ts";
import { MAX_BODY_BYTES } from "./http.ts";
import { databaseWriter, RefusalCounter, type RefusalRow } from "./refusals.ts";

const sql = testSql();
const opts = { sanitizeOps: false, sanitizeResources: false };
const T0 = Date.parse("2026-12-02T09:00:10Z");

function recording(): { counter: RefusalCounter; writes: RefusalRow[][]; errors: unknown[] } {
  const writes: RefusalRow[][] = [];
  const errors: unknown[] = [];
  const counter = new RefusalCounter((rows) => Promise.resolve(void writes.push(rows.map((r) => ({ ...r })))), (e) => {
    errors.push(e);
  }, 3);
  return { counter, writes, errors };
}

const bad = { tenantId: "t-1", source: "pms" as const, provider: "generic", status: 401, reason: "unauthorized" };

Deno.test("a minute of refusals is held, then written once as counts per key", opts, async () => {
  const { counter, writes } = recording();
  for (let i = 0; i < 500; i++) counter.add(bad, T0 + i);
  counter.add({ ...bad, status: 415, reason: "unsupported_media_type" }, T0 + 1000);
  assert.equal(writes.length, 0);
  assert.equal(counter.held, 501);

  counter.add(bad, T0 + 60_000); // the next minute begins: the first one is complete
  await counter.flush(T0 + 60_000 - 10_000);
  assert.equal(writes.length, 1);
  assert.deepEqual(
    writes[0].map((r) => [r.minute, r.status, r.reason, r.count]),
    [["2026-12-02T09:00:00.000Z", 401, "unauthorized", 500], [
      "2026-12-02T09:00:00.000Z",
      415,
      "unsupported_media_type",
      1,
    ]],
  );
  assert.equal(counter.held, 1);
  await counter.flush();
  assert.equal(writes.length, 2);
  assert.equal(counter.held, 0);
});

Deno.test("a key-spraying flood stays bounded: past the cap counts go to one 'other' key", opts, async () => {
  const { counter, writes } = recording();
  for (let i = 0; i < 100; i++) counter.add({ ...bad, tenantId: `t-${i}` }, T0);
  await counter.flush();
  const rows = writes[0];
  assert.equal(rows.length, 4); // the cap (3) plus "other"
  assert.deepEqual(rows.map((r) => r.count).reduce((a, b) => a + b), 100);
  assert.equal(rows.find((r) => r.provider === "other")?.count, 97);
});

Deno.test("a failed write is reported and does not stop later ones", opts, async () => {
  let fail = true;
  const errors: unknown[] = [];
  const written: RefusalRow[][] = [];
  const counter = new RefusalCounter((rows) => {
    if (fail) return Promise.reject(new Error("database away"));
    written.push(rows);
    return Promise.resolve();
  }, (e) => void errors.push(e));
  counter.add(bad, T0);
  await counter.flush();
  fail = false;
  counter.add(bad, T0 + 60_000);
  await counter.flush();
  assert.equal(errors.length, 1);
  assert.equal(written.length, 1);
});

Deno.test("pms-webhook counts its 401, 413, 415 and 422 answers per tenant and reason", opts, async () => {
  const tenant = await createTenant(sql, "refusals");
  const secret = newStandardSecret();
  await createPmsConfig(sql, tenant, "generic", "standard_webhooks", secret);
  const path = `/pms-webhook/generic/${tenant.webhookKey}`;
  const refusals = new RefusalCounter(databaseWriter(() => sql), (e) => {
    throw e;
  });
  const handle = createHandler({ ...testDeps(sql), refusals });

  for (let i = 0; i < 3; i++) {
    const forged = await standardWebhookRequest(path, genericBody(), newStandardSecret());
    assert.equal((await handle(forged)).status, 401);
  }
  const plain = await standardWebhookRequest(path, genericBody(), secret, {
    headers: { "content-type": "text/plain" },
  });
  assert.equal((await handle(plain)).status, 415);
  const signed = await standardWebhookRequest(path, "{}", secret);
  const headers = new Headers(signed.headers);
  headers.set("content-length", String(MAX_BODY_BYTES + 1));
  const declared = new ReadableStream<Uint8Array>({ pull: () => {} }, { highWaterMark: 0 });
  assert.equal((await handle(new Request(signed.url, { method: "POST", headers, body: declared }))).status, 413);
  const invalid = JSON.parse(genericBody());
  invalid.data.arrival_date = "20 December";
  assert.equal((await handle(await standardWebhookRequest(path, JSON.stringify(invalid), secret))).status, 422);
  const accepted = await handle(await standardWebhookRequest(path, genericBody(), secret));
  assert.equal(accepted.status, 202); // an accepted webhook is not a refusal
  assert.equal(refusals.held, 6);

  await refusals.flush();
  const rows = await sql<{ tenant_id: string | null; status: number; reason: string; count: string }[]>`
    select tenant_id, status, reason, count from ops.webhook_refusals
    where tenant_id = ${tenant.id} or (tenant_id is null and status in (413, 415) and minute >= now() - interval '2 minutes')
    order by status`;
  assert.deepEqual(
    rows.map((r) => [r.tenant_id, r.status, r.reason, Number(r.count)]),
    [
      [tenant.id, 401, "unauthorized", 3],
      // Refused before the key was looked up (cheap refusals first): the tenant is not known yet.
      [null, 413, "payload_too_large", 1],
      [null, 415, "unsupported_media_type", 1],
      [tenant.id, 422, "schema_violation", 1],
    ],
  );
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
