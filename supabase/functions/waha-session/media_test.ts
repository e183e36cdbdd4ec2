// waha-session `media`: a member opens the photo, document or voice note of a guest's message.
// The bytes come from the tenant's WAHA (here a local server standing in for its files route)
// with their content type, and nothing is kept; a media URL anywhere else is never fetched.
import assert from "node:assert/strict";
import {
  accessToken,
  BASE,
  createMember,
  createTenant,
  createWahaConfig,
  type Tenant,
  TEST_JWT_SECRET,
  testSql,
} from "../_testing/fixtures.ts";
import { hs256Verifier } from "./auth.ts";
import { createHandler } from "./handler.ts";

const sql = testSql();
const opts = { sanitizeOps: false, sanitizeResources: false };
const PDF = new TextEncoder().encode("%PDF-1.4\n% a guest's invoice\n%%EOF\n");

/** WAHA's files route (GET /api/files/<session>/<file>) and its message lookup, behind the API
 * key. `downloadAgain` says which file URL a message lookup with downloadMedia=true answers. */
function wahaFiles(apiKey: string, downloadAgain: (origin: string) => string | null = () => null) {
  const seen: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    seen.push(url.pathname + url.search);
    if (req.headers.get("x-api-key") !== apiKey) return Response.json({ message: "Unauthorized" }, { status: 401 });
    if (url.pathname === "/api/files/default/INVOICE.pdf") {
      return new Response(PDF, { headers: { "content-type": "application/pdf" } });
    }
    const again = downloadAgain(url.origin);
    if (url.pathname.startsWith("/api/default/chats/4915112345678%40c.us/messages/") && again !== null) {
      return Response.json({ id: "x", media: { url: again, mimetype: "application/pdf" } });
    }
    return Response.json({ message: "not found" }, { status: 404 });
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

const handle = createHandler({
  sql: () => sql,
  log: () => {},
  verifyJwt: hs256Verifier(TEST_JWT_SECRET),
  functionsUrl: "https://project.supabase.co/functions/v1",
  allowLocalUrls: true,
});

async function media(token: string, tenant: Tenant, messageId: unknown): Promise<Response> {
  return await handle(
    new Request(`${BASE}/waha-session`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ action: "media", tenant_id: tenant.id, message_id: messageId }),
    }),
  );
}

/** A guest's message in a new conversation of `tenant`, with `mediaUrl` (null: text only). */
async function message(tenant: Tenant, mediaUrl: string | null, filename: string | null = null): Promise<string> {
  const described = mediaUrl === null
    ? null
    : sql.json({ kind: "document", mimetype: "application/pdf", filename, url: mediaUrl });
  const key = `false_4915112345678@c.us_${crypto.randomUUID()}`;
  const rows = await sql<{ message_id: string }[]>`
    select message_id::text from internal.record_conversation_message_v1(
      ${tenant.id}::uuid, 'default', '4915112345678@c.us', ${key}, false, now(), 'my invoice',
      null, ${described})`;
  return rows[0].message_id;
}

async function hotel(label: string, wahaUrl: string, apiKey: string) {
  const tenant = await createTenant(sql, label);
  const { configId } = await createWahaConfig(sql, tenant, wahaUrl);
  await sql`select public.set_waha_api_key(${configId}::uuid, ${apiKey})`;
  return tenant;
}

Deno.test("a member of the hotel gets the file with its type, never cached", opts, async () => {
  const waha = wahaFiles("key-media-1");
  try {
    const tenant = await hotel("media-ok", waha.url, "key-media-1");
    const staff = await accessToken(await createMember(sql, tenant, "staff"));
    const id = await message(tenant, `${waha.url}/api/files/default/INVOICE.pdf`, "Rechnung März.pdf");

    const res = await media(staff, tenant, Number(id));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/pdf");
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    assert.match(
      res.headers.get("content-disposition") ?? "",
      /^inline; filename="Rechnung M_rz\.pdf"; filename\*=UTF-8''Rechnung%20M%C3%A4rz\.pdf$/,
    );
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), PDF);
    assert.deepEqual(waha.seen, ["/api/files/default/INVOICE.pdf"]);
  } finally {
    await waha.close();
  }
});

Deno.test("another hotel's message answers like a missing one; outsiders are refused", opts, async () => {
  const waha = wahaFiles("key-media-2");
  try {
    const mine = await hotel("media-mine", waha.url, "key-media-2");
    const theirs = await hotel("media-theirs", waha.url, "key-media-2");
    const theirMessage = await message(theirs, `${waha.url}/api/files/default/INVOICE.pdf`);
    const owner = await accessToken(await createMember(sql, mine, "owner"));

    const foreign = await media(owner, mine, theirMessage);
    const missing = await media(owner, mine, "999999999999");
    assert.equal(foreign.status, 404);
    assert.deepEqual(
      { ...(await foreign.json()), request_id: null },
      { ...(await missing.json()), request_id: null },
    );

    const textOnly = await media(owner, mine, await message(mine, null));
    assert.equal(textOnly.status, 404);
    assert.equal((await textOnly.json()).error, "not_found");

    const outsider = await accessToken(await createMember(sql, mine, null));
    assert.equal((await media(outsider, mine, theirMessage)).status, 403);
    const bad = await media(owner, mine, "1; drop table x");
    assert.equal(bad.status, 422);
    assert.deepEqual(waha.seen, []);
  } finally {
    await waha.close();
  }
});

Deno.test("a media URL off the hotel's WAHA is never fetched", opts, async () => {
  const waha = wahaFiles("key-media-3");
  const elsewhere = wahaFiles("key-media-3");
  try {
    const tenant = await hotel("media-ssrf", waha.url, "key-media-3");
    const admin = await accessToken(await createMember(sql, tenant, "admin"));
    for (
      const url of [
        `${elsewhere.url}/api/files/default/INVOICE.pdf`,
        `${waha.url}/api/sessions/default`,
        `http://user:pw@${waha.url.slice(7)}/api/files/default/INVOICE.pdf`,
        "http://169.254.169.254/api/files/default/INVOICE.pdf",
      ]
    ) {
      const res = await media(admin, tenant, await message(tenant, url));
      assert.equal(res.status, 502, url);
      const body = await res.json();
      assert.equal(body.error, "media_url_not_allowed");
      assert.doesNotMatch(JSON.stringify(body), /key-media/);
    }
    const gone = await media(admin, tenant, await message(tenant, `${waha.url}/api/files/default/OLD.pdf`));
    assert.equal(gone.status, 404);
    assert.equal((await gone.json()).error, "media_gone");
    assert.deepEqual(elsewhere.seen, []);
    assert.equal(waha.seen[0], "/api/files/default/OLD.pdf");
    assert.match(
      waha.seen[1],
      /^\/api\/default\/chats\/4915112345678%40c\.us\/messages\/false_.+\?downloadMedia=true$/,
    );
  } finally {
    await waha.close();
    await elsewhere.close();
  }
});

Deno.test("a file WAHA has deleted is downloaded again through the message", opts, async () => {
  const elsewhere = wahaFiles("key-media-4");
  const waha = wahaFiles("key-media-4", (origin) => `${origin}/api/files/default/INVOICE.pdf`);
  const forged = wahaFiles("key-media-4", () => `${elsewhere.url}/api/files/default/INVOICE.pdf`);
  try {
    const tenant = await hotel("media-again", waha.url, "key-media-4");
    const staff = await accessToken(await createMember(sql, tenant, "staff"));
    const res = await media(staff, tenant, await message(tenant, `${waha.url}/api/files/default/EXPIRED.pdf`));
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), PDF);
    assert.equal(waha.seen.at(-1), "/api/files/default/INVOICE.pdf");

    // What WAHA answers is checked like the stored URL: a file elsewhere is never fetched.
    const other = await hotel("media-again-forged", forged.url, "key-media-4");
    const admin = await accessToken(await createMember(sql, other, "admin"));
    const refused = await media(admin, other, await message(other, `${forged.url}/api/files/default/EXPIRED.pdf`));
    assert.equal(refused.status, 502);
    assert.equal((await refused.json()).error, "media_url_not_allowed");
    assert.deepEqual(elsewhere.seen, []);
  } finally {
    await waha.close();
    await forged.close();
    await elsewhere.close();
  }
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
