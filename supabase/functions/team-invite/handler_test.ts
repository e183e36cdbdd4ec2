// team-invite against the database (invite_member's rules, the one transaction) with Auth's
// /invite answered by a stand-in: what it is asked, and what its refusals turn into.
// tests/dashboard/test_team_e2e.py drives the real Auth end to end.
import assert from "node:assert/strict";
import { accessToken, BASE, createMember, createTenant, TEST_JWT_SECRET, testSql } from "../_testing/fixtures.ts";
import { hs256Verifier } from "../waha-session/auth.ts";
import { createHandler } from "./handler.ts";

const sql = testSql();
const opts = { sanitizeOps: false, sanitizeResources: false };
const APP = "http://127.0.0.1:5173/accept-invite";

interface AuthCall {
  url: URL;
  headers: Headers;
  body: { email: string };
}

function handlerWithAuth(status: number, body: Record<string, unknown>) {
  const calls: AuthCall[] = [];
  const handle = createHandler({
    sql: () => sql,
    log: () => {},
    verifyJwt: hs256Verifier(TEST_JWT_SECRET),
    authUrl: "http://auth.test/auth/v1",
    serviceKey: "sb_secret_test",
    fetch: (input, init) => {
      calls.push({
        url: new URL(String(input)),
        headers: new Headers(init?.headers),
        body: JSON.parse(String(init?.body)),
      });
      return Promise.resolve(Response.json(body, { status }));
    },
  });
  return { handle, calls };
}

function call(handle: (r: Request) => Promise<Response>, body: unknown, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return handle(new Request(`${BASE}/team-invite`, { method: "POST", headers, body: JSON.stringify(body) }));
}

async function openInvitations(tenantId: string): Promise<{ email: string; role: string }[]> {
  const rows = await sql<{ email: string; role: string }[]>`
    select email, role::text from public.tenant_invitations
    where tenant_id = ${tenantId} and accepted_at is null and revoked_at is null`;
  return rows.map((r) => ({ email: r.email, role: r.role }));
}

Deno.test("an owner's invitation is stored and e-mailed by Auth with a link carrying its token", opts, async () => {
  const tenant = await createTenant(sql, "team-invite");
  const owner = await createMember(sql, tenant, "owner");
  const { handle, calls } = handlerWithAuth(200, { id: crypto.randomUUID(), email: "new@hotel.test" });
  const response = await call(
    handle,
    { tenant_id: tenant.id, email: " New@Hotel.test ", role: "admin", redirect_to: APP },
    await accessToken(owner),
  );
  assert.equal(response.status, 200);
  const result = await response.json();
  assert.equal(result.emailed, true);
  assert.equal(result.link, undefined, "the token is only in the e-mail");
  assert.deepEqual(await openInvitations(tenant.id), [{ email: "new@hotel.test", role: "admin" }]);

  assert.equal(calls.length, 1);
  assert.equal(calls[0].url.pathname, "/auth/v1/invite");
  assert.equal(calls[0].headers.get("authorization"), "Bearer sb_secret_test");
  assert.equal(calls[0].body.email, "new@hotel.test");
  const landing = new URL(calls[0].url.searchParams.get("redirect_to")!);
  assert.equal(`${landing.origin}${landing.pathname}`, APP);
  const [accepted] = await sql`select public.tenant_invitations.id from public.tenant_invitations
    where token_hash = extensions.digest(${landing.searchParams.get("invitation")!}, 'sha256')`;
  assert.ok(accepted, "the link's token is the invitation's");
});

Deno.test(
  "an address with an account is not e-mailed: the invitation stays and its link comes back",
  opts,
  async () => {
    const tenant = await createTenant(sql, "team-invite");
    const owner = await createMember(sql, tenant, "owner");
    const { handle } = handlerWithAuth(422, { code: "email_exists", message: "already registered" });
    const response = await call(
      handle,
      { tenant_id: tenant.id, email: "known@hotel.test", role: "staff", redirect_to: APP },
      await accessToken(owner),
    );
    assert.equal(response.status, 200);
    const result = await response.json();
    assert.equal(result.emailed, false);
    assert.match(result.link, /^http:\/\/127\.0\.0\.1:5173\/accept-invite\?invitation=[\w-]+$/);
    assert.deepEqual(await openInvitations(tenant.id), [{ email: "known@hotel.test", role: "staff" }]);
  },
);

Deno.test("when Auth cannot send the e-mail, there is no invitation", opts, async () => {
  const tenant = await createTenant(sql, "team-invite");
  const owner = await createMember(sql, tenant, "owner");
  const { handle } = handlerWithAuth(500, { code: "unexpected_failure" });
  const response = await call(
    handle,
    { tenant_id: tenant.id, email: "lost@hotel.test", role: "staff", redirect_to: APP },
    await accessToken(owner),
  );
  assert.equal(response.status, 502);
  assert.equal((await response.json()).error, "auth_unavailable");
  assert.deepEqual(await openInvitations(tenant.id), []);
});

Deno.test("invite_member's rules hold: admins invite no owner, staff and outsiders get one answer", opts, async () => {
  const tenant = await createTenant(sql, "team-invite");
  const admin = await createMember(sql, tenant, "admin");
  const staff = await createMember(sql, tenant, "staff");
  const outsider = await createMember(sql, tenant, null);
  const { handle, calls } = handlerWithAuth(200, {});
  const body = (role: string) => ({ tenant_id: tenant.id, email: "x@hotel.test", role, redirect_to: APP });

  const asAdmin = await call(handle, body("owner"), await accessToken(admin));
  assert.equal(asAdmin.status, 403);
  assert.equal((await asAdmin.json()).message, "only an owner can invite an owner");
  for (const user of [staff, outsider]) {
    const refused = await call(handle, body("staff"), await accessToken(user));
    assert.equal(refused.status, 404);
    assert.equal((await refused.json()).error, "not_found");
  }
  assert.equal((await call(handle, body("staff"))).status, 401);
  const badEmail = await call(handle, { ...body("staff"), email: "not an address" }, await accessToken(admin));
  assert.equal(badEmail.status, 422);
  assert.equal(calls.length, 0);
  assert.deepEqual(await openInvitations(tenant.id), []);
  await sql.end();
});
