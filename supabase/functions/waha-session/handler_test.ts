// waha-session's gatekeeping, without a WAHA server: who may call it, and what it answers when
// the request or the tenant's configuration is not usable. simulator_test.ts drives a WAHA.
import assert from "node:assert/strict";
import {
  accessToken,
  BASE,
  createMember,
  createTenant,
  createWahaConfig,
  freePort,
  TEST_JWT_SECRET,
  testSql,
} from "../_testing/fixtures.ts";
import { hs256Verifier } from "./auth.ts";
import { createHandler } from "./handler.ts";
import type { LogLine } from "../_shared/log.ts";

const sql = testSql();
const lines: LogLine[] = [];
const handle = createHandler({
  sql: () => sql,
  log: (l) => lines.push(l),
  verifyJwt: hs256Verifier(TEST_JWT_SECRET),
  functionsUrl: "http://127.0.0.1:54321/functions/v1",
  allowLocalUrls: true,
});
const opts = { sanitizeOps: false, sanitizeResources: false };

function call(body: unknown, token?: string, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return handle(new Request(`${BASE}/waha-session`, { method: "POST", headers, body: JSON.stringify(body), ...init }));
}

async function setup() {
  const tenant = await createTenant(sql, "waha-session");
  // Nothing listens on this port: a call that gets past the checks fails at WAHA with 502.
  await createWahaConfig(sql, tenant, `http://127.0.0.1:${freePort()}`);
  return tenant;
}

Deno.test("no token, a bad token, an expired token or an anon key is 401", opts, async () => {
  const tenant = await setup();
  const owner = await createMember(sql, tenant, "owner");
  const body = { action: "status", tenant_id: tenant.id };
  const cases = [
    undefined,
    "not-a-jwt",
    await accessToken(owner, { secret: "another-projects-secret-of-at-least-32-chars" }),
    await accessToken(owner, { expiresIn: "-1m" }),
    await accessToken(owner, { role: "anon" }),
  ];
  for (const token of cases) {
    const res = await call(body, token);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error, "unauthorized");
  }
  const expired = await call(body, await accessToken(owner, { expiresIn: "-1m" }));
  assert.match((await expired.json()).message, /expired/);
});

Deno.test("staff and users of other tenants are 403; owners and admins get through", opts, async () => {
  const tenant = await setup();
  const other = await createTenant(sql, "other");
  const staff = await createMember(sql, tenant, "staff");
  const outsider = await createMember(sql, other, "owner");
  const stranger = await createMember(sql, tenant, null);
  const body = { action: "status", tenant_id: tenant.id };
  for (const user of [staff, outsider, stranger]) {
    const res = await call(body, await accessToken(user));
    assert.equal(res.status, 403);
    await res.body?.cancel();
  }
  for (const role of ["owner", "admin"] as const) {
    const user = await createMember(sql, tenant, role);
    const res = await call(body, await accessToken(user));
    // Past the checks, the call reaches for this tenant's WAHA, which is not running.
    assert.equal(res.status, 502);
    assert.equal((await res.json()).error, "waha_unreachable");
    const line = lines[lines.length - 1];
    assert.deepEqual([line.tenantId, line.userId, line.role, line.action], [tenant.id, user, role, "status"]);
  }
});

Deno.test("a tenant without a WAHA connection is 404", opts, async () => {
  const tenant = await createTenant(sql, "no-waha");
  const owner = await createMember(sql, tenant, "owner");
  const res = await call({ action: "start", tenant_id: tenant.id }, await accessToken(owner));
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error, "not_configured");
});

Deno.test("malformed requests: 405, 415, 400 and 422 with the reason", opts, async () => {
  const tenant = await setup();
  const token = await accessToken(await createMember(sql, tenant, "owner"));
  const get = await handle(new Request(`${BASE}/waha-session`, { headers: { authorization: `Bearer ${token}` } }));
  assert.equal(get.status, 405);
  await get.body?.cancel();
  const text = await call({}, token, { headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" } });
  assert.equal(text.status, 415);
  await text.body?.cancel();
  const broken = await call(undefined, token, { body: "{" });
  assert.equal(broken.status, 400);
  await broken.body?.cancel();
  for (
    const [body, reason] of [
      [{ action: "reboot", tenant_id: tenant.id }, /action must be one of/],
      [{ action: "status", tenant_id: "hotel-1" }, /tenant_id/],
      [{ action: "pairing_code", tenant_id: tenant.id, phone_number: "call me" }, /phone_number/],
      [{ action: "start", tenant_id: tenant.id, rotate_webhook_secret: "yes" }, /rotate_webhook_secret/],
      [[], /JSON object/],
    ] as const
  ) {
    const res = await call(body, token);
    assert.equal(res.status, 422);
    assert.match((await res.json()).message, reason);
  }
});

Deno.test("CORS preflight is answered for the dashboard", opts, async () => {
  const res = await handle(new Request(`${BASE}/waha-session`, { method: "OPTIONS" }));
  assert.equal(res.status, 204);
  assert.match(res.headers.get("access-control-allow-headers") ?? "", /authorization/);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
