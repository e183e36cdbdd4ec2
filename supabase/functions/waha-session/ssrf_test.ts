// Server-side request forgery through waha-session: the tenant's WAHA URL points at a server
// on 127.0.0.1 that records every request. With the local-development setting off (as
// deployed) no action may reach it, also when a public-looking name resolves to it; with the
// setting on, whatever that server answers is never passed on to the caller as it came.
import assert from "node:assert/strict";
import {
  accessToken,
  BASE,
  createMember,
  createTenant,
  createWahaConfig,
  TEST_JWT_SECRET,
  testSql,
} from "../_testing/fixtures.ts";
import type { Resolver } from "../_shared/url_guard.ts";
import { hs256Verifier } from "./auth.ts";
import { ACTIONS, createHandler } from "./handler.ts";

const sql = testSql();
const opts = { sanitizeOps: false, sanitizeResources: false };

/** An internal service: records each request and answers with something that must stay inside. */
function recordingServer(answer: (path: string) => unknown) {
  const seen: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    return Response.json(answer(url.pathname));
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

function handlerWith(allowLocalUrls: boolean, resolve?: Resolver) {
  return createHandler({
    sql: () => sql,
    log: () => {},
    verifyJwt: hs256Verifier(TEST_JWT_SECRET),
    functionsUrl: "https://project.supabase.co/functions/v1",
    allowLocalUrls,
    resolve,
  });
}

async function call(handle: (req: Request) => Promise<Response>, token: string, body: Record<string, unknown>) {
  return await handle(
    new Request(`${BASE}/waha-session`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }),
  );
}

const SECRET = "internal-metadata-credential-0001";
const leaky = () => ({ name: "x", status: "SCAN_QR_CODE", mimetype: "text/plain", data: SECRET, secret: SECRET });

Deno.test("with local URLs off, no action reaches a server on 127.0.0.1", opts, async () => {
  const internal = recordingServer(leaky);
  try {
    const tenant = await createTenant(sql, "ssrf-literal");
    // Saved while the test database allows local URLs; the function checks again when used.
    await createWahaConfig(sql, tenant, internal.url);
    const token = await accessToken(await createMember(sql, tenant, "owner"));
    const handle = handlerWith(false);
    for (const action of ACTIONS) {
      const res = await call(handle, token, {
        action,
        tenant_id: tenant.id,
        phone_number: "+4930123456789",
        message_id: 1,
      });
      const body = await res.json();
      assert.equal(res.status, 409, action);
      assert.equal(body.error, "waha_url_not_allowed");
      assert.match(body.message, /it must use https/);
      assert.doesNotMatch(JSON.stringify(body), new RegExp(SECRET));
    }
    assert.deepEqual(internal.seen, []);
  } finally {
    await internal.close();
  }
});

Deno.test(
  "a public name that resolves to 127.0.0.1 or the metadata address is refused before any call",
  opts,
  async () => {
    const internal = recordingServer(leaky);
    try {
      const tenant = await createTenant(sql, "ssrf-rebinding");
      await createWahaConfig(sql, tenant, "https://waha.hotel-example.com");
      const token = await accessToken(await createMember(sql, tenant, "owner"));
      for (const address of ["127.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"]) {
        let fetched = 0;
        const handle = createHandler({
          sql: () => sql,
          log: () => {},
          verifyJwt: hs256Verifier(TEST_JWT_SECRET),
          functionsUrl: "https://project.supabase.co/functions/v1",
          allowLocalUrls: false,
          resolve: () => Promise.resolve([address]),
          fetch: (() => {
            fetched += 1;
            return Promise.reject(new Error("must not be called"));
          }) as typeof fetch,
        });
        for (const action of ["qr", "start"]) {
          const res = await call(handle, token, { action, tenant_id: tenant.id });
          const body = await res.json();
          assert.equal(res.status, 409);
          assert.match(body.message, new RegExp(`resolves to ${address.replace(/\./g, "\\.")}`));
        }
        assert.equal(fetched, 0);
      }
      assert.deepEqual(internal.seen, []);
    } finally {
      await internal.close();
    }
  },
);

Deno.test("with local URLs on, what the server sends is never passed through", opts, async () => {
  const internal = recordingServer((path) =>
    path.endsWith("/auth/qr")
      ? { mimetype: "text/plain", data: SECRET }
      : { name: SECRET, status: "SCAN_QR_CODE", me: { id: SECRET }, config: {}, extra: SECRET }
  );
  try {
    const tenant = await createTenant(sql, "ssrf-shape");
    await createWahaConfig(sql, tenant, internal.url, "hotel");
    const token = await accessToken(await createMember(sql, tenant, "owner"));
    const handle = handlerWith(true);

    const qr = await call(handle, token, { action: "qr", tenant_id: tenant.id });
    assert.equal(qr.status, 502);
    const qrBody = await qr.json();
    assert.equal(qrBody.error, "waha_error");
    assert.doesNotMatch(JSON.stringify(qrBody), new RegExp(SECRET));

    const status = await call(handle, token, { action: "status", tenant_id: tenant.id });
    assert.equal(status.status, 200);
    const statusBody = await status.json();
    assert.deepEqual(statusBody.session, { name: "hotel", status: "SCAN_QR_CODE" });
    assert.equal(statusBody.qr, null);
    assert.doesNotMatch(JSON.stringify(statusBody), new RegExp(SECRET));
    assert.ok(internal.seen.length > 0);
  } finally {
    await internal.close();
  }
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
