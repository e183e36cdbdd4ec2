// The Data API as supabase-js (pinned in package.json) drives it, written for node:test and run
// under Deno (test_supabase_js.py says why). test_supabase_js.py prepares two hotels and passes
// what this needs in the environment:
//   SUPABASE_URL, SUPABASE_PUBLISHABLE_KEY, DATA_API_FIXTURE (JSON: tokens, ids, forged tokens)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";

const url = process.env.SUPABASE_URL;
const key = process.env.SUPABASE_PUBLISHABLE_KEY;
const fx = JSON.parse(process.env.DATA_API_FIXTURE ?? "{}");

// A client as a signed-in dashboard has it: the publishable key plus the user's access token.
function as(token, schema = "public") {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return createClient(url, key, {
    db: { schema },
    global: { headers },
    auth: { persistSession: false, autoRefreshToken: false },
  });
}

const template = (tenant, k, body = "Hi {{guest_name}}") => ({ tenant_id: tenant, key: k, language: "en", body });

test("a session from Auth reaches the Data API, and sign-out ends it", async () => {
  const sb = createClient(url, key, { auth: { persistSession: false, autoRefreshToken: false } });
  const signedIn = await sb.auth.signInWithPassword(fx.owner_a);
  assert.equal(signedIn.error, null);
  const tenants = await sb.from("tenants").select("id");
  assert.deepEqual(tenants.data, [{ id: fx.tenant_a }]);
  await sb.auth.signOut();
  const after = await sb.from("message_logs").select("id");
  assert.equal(after.status, 401);
  assert.equal(after.error.code, "42501");
});

test("auth: a 5-second session refreshes, rotates, and ends with sign-out", async (t) => {
  if (fx.remote) return t.skip("a real project's token lifetime is its own setting");
  const fresh = () => createClient(url, key, { auth: { persistSession: false, autoRefreshToken: false } });
  const wrong = await fresh().auth.signInWithPassword({ email: fx.owner_a.email, password: "not the password" });
  assert.equal(wrong.error.status, 400);
  assert.equal(wrong.error.code, "invalid_credentials");

  const sb = fresh();
  const first = await sb.auth.signInWithPassword(fx.owner_a);
  assert.equal(first.error, null);
  const s1 = first.data.session;
  assert.equal(s1.expires_in, 5);
  await until(() => Date.now() / 1000 > s1.expires_at, "the access token to expire");
  // the client notices the expired session and refreshes it, rotating the refresh token
  const { data: { session: s2 }, error } = await sb.auth.getSession();
  assert.equal(error, null);
  assert.notEqual(s2.access_token, s1.access_token);
  assert.notEqual(s2.refresh_token, s1.refresh_token);
  const tenants = await sb.from("tenants").select("id");
  assert.deepEqual(tenants.data, [{ id: fx.tenant_a }]);

  await sb.auth.signOut();
  const revoked = await fresh().auth.refreshSession({ refresh_token: s2.refresh_token });
  assert.equal(revoked.error.status, 400);
  assert.equal(revoked.error.code, "refresh_token_not_found");
});

test("reads: filters, order, ranges and exact counts", async () => {
  const sb = as(fx.tokens.staff_a);
  const ids = fx.messages_a;
  const all = await sb.from("message_logs").select("id, status").order("id");
  assert.equal(all.error, null);
  assert.deepEqual(all.data.map((r) => r.id), ids);
  assert.deepEqual(Object.keys(all.data[0]).sort(), ["id", "status"]);

  const dead = await sb.from("message_logs").select("id").in("status", ["dead", "failed"]).order("id");
  assert.deepEqual(dead.data.map((r) => r.id), [ids[2], ids[4]]);
  const either = await sb.from("message_logs").select("id").or("status.eq.dead,template_key.eq.tpl_4").order("id");
  assert.deepEqual(either.data.map((r) => r.id), [ids[2], ids[4]]);
  const ada = await sb.from("message_logs").select("id").ilike("body", "%ada%").gte("id", ids[0]).order("id");
  assert.deepEqual(ada.data.map((r) => r.id), [ids[1], ids[3]]);
  const noReservation = await sb.from("message_logs").select("id").is("reservation_id", null);
  assert.equal(noReservation.data.length, 5);

  const page = await sb.from("message_logs").select("id", { count: "exact" }).order("id", { ascending: false })
    .range(0, 1);
  assert.equal(page.status, 206);
  assert.equal(page.count, 5);
  assert.deepEqual(page.data.map((r) => r.id), [ids[4], ids[3]]);
  const head = await sb.from("message_logs").select("*", { count: "exact", head: true }).eq("status", "sent");
  assert.equal(head.count, 2);

  const one = await sb.from("message_logs").select("id, body").eq("id", ids[3]).single();
  assert.deepEqual(one.data, { id: ids[3], body: "Hello Ada 3" });
  const embedded = await sb.from("message_logs").select("id, tenants(name)").eq("id", ids[0]).single();
  assert.deepEqual(embedded.data, { id: ids[0], tenants: { name: "Hotel A" } });
  const none = await sb.from("message_logs").select("id").eq("id", fx.message_b).maybeSingle();
  assert.equal(none.error, null);
  assert.equal(none.data, null);
});

test("isolation: hotel B's owner neither sees nor changes hotel A", async () => {
  const ownerB = as(fx.tokens.owner_b);
  const seen = await ownerB.from("message_logs").select("id");
  assert.deepEqual(seen.data.map((r) => r.id), [fx.message_b]);
  const tenants = await ownerB.from("tenants").select("id");
  assert.deepEqual(tenants.data, [{ id: fx.tenant_b }]);

  const changed = await ownerB.from("message_templates").update({ body: "pwned" }).eq("id", fx.template_a).select();
  assert.deepEqual(changed.data, []);
  const removed = await ownerB.from("message_templates").delete().eq("id", fx.template_a).select();
  assert.deepEqual(removed.data, []);
  const planted = await ownerB.from("message_templates").insert(template(fx.tenant_a, "planted"));
  assert.equal(planted.status, 403);
  assert.equal(planted.error.code, "42501");
  // one answer whether the row is another hotel's or does not exist (its HTTP status: see
  // test_an_rpc_refusal_is_a_client_error in test_supabase_py.py)
  const resent = await ownerB.rpc("resend_message", { p_message_id: fx.messages_a[2] });
  const missing = await ownerB.rpc("resend_message", { p_message_id: 2 ** 52 });
  assert.equal(resent.error.message, "message not found or not accessible");
  assert.deepEqual([resent.status, resent.error], [missing.status, missing.error]);

  const anonymous = await as(null).from("message_logs").select("id");
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.error.code, "42501");
});

test("rpc: named arguments, each role, and the metrics schema", async () => {
  const staff = await as(fx.tokens.staff_a).rpc("resend_message", { p_message_id: fx.messages_a[4] });
  assert.equal(staff.error.message, "message not found or not accessible");
  const admin = await as(fx.tokens.admin_a).rpc("resend_message", { p_message_id: fx.messages_a[4] });
  assert.equal(admin.error, null);
  assert.equal(admin.data, true);

  const metrics = await as(fx.tokens.owner_a, "metrics").rpc("tenant_metrics", {});
  assert.equal(metrics.error, null);
  assert.deepEqual(metrics.data.map((r) => r.tenant_id), [fx.tenant_a]);
  const unknown = await as(fx.tokens.owner_a).rpc("no_such_function", {});
  assert.equal(unknown.status, 404);
  assert.equal(unknown.error.code, "PGRST202");
});

test("writes: insert, upsert, update and delete with return preferences", async () => {
  const sb = as(fx.tokens.admin_a);
  const created = await sb.from("message_templates").insert(template(fx.tenant_a, "js_hello", "Hello")).select()
    .single();
  assert.equal(created.status, 201);
  assert.equal(created.data.body, "Hello");
  const minimal = await sb.from("message_templates").insert(template(fx.tenant_a, "js_bye"));
  assert.equal(minimal.status, 201);
  assert.equal(minimal.data, null);

  const merged = await sb.from("message_templates")
    .upsert(template(fx.tenant_a, "js_hello", "Hello again"), { onConflict: "tenant_id,key,language" }).select();
  assert.deepEqual(merged.data.map((r) => [r.id, r.body]), [[created.data.id, "Hello again"]]);
  const duplicate = await sb.from("message_templates").insert(template(fx.tenant_a, "js_hello"));
  assert.equal(duplicate.status, 409);
  assert.equal(duplicate.error.code, "23505");

  const updated = await sb.from("message_templates").update({ body: "Bye!" }).eq("key", "js_bye").select("body");
  assert.deepEqual(updated.data, [{ body: "Bye!" }]);
  const deleted = await sb.from("message_templates").delete({ count: "exact" }).in("key", ["js_hello", "js_bye"]);
  assert.equal(deleted.status, 204);
  assert.equal(deleted.count, 2);
});

test("errors: PostgREST's shapes for bad queries, and nothing written", async () => {
  const sb = as(fx.tokens.owner_a);
  const malformed = await sb.from("message_logs").select("id").filter("id", "equals", "1");
  assert.equal(malformed.status, 400);
  assert.equal(malformed.error.code, "PGRST100");
  const unknownColumn = await sb.from("message_logs").select("no_such_column");
  assert.equal(unknownColumn.status, 400);
  assert.equal(unknownColumn.error.code, "42703");
  const many = await sb.from("message_logs").select("id").single();
  assert.equal(many.status, 406);
  assert.equal(many.error.code, "PGRST116");
  assert.equal(many.error.details, "The result contains 5 rows");

  const bulk = await sb.from("message_templates").insert([
    template(fx.tenant_a, "js_fine"),
    template(fx.tenant_a, "Not A Key"),
  ]);
  assert.equal(bulk.status, 400);
  assert.equal(bulk.error.code, "23514");
  if (!fx.remote) { // the 1 MiB body limit is the local gateway's own
    const huge = Array.from({ length: 400 }, (_, i) => template(fx.tenant_a, `js_big_${i}`, "x".repeat(4000)));
    const tooLong = await sb.from("message_templates").insert(huge);
    assert.equal(tooLong.status, 413);
  }
  const left = await sb.from("message_templates").select("key").like("key", "js_*");
  assert.deepEqual(left.data, []);
});

test("tokens: forged or expired ones get 401", async () => {
  for (const [name, [token, code]] of Object.entries(fx.forged)) {
    const res = await as(token).from("message_templates").insert(template(fx.tenant_a, "js_forged"));
    assert.equal(res.status, 401, name);
    assert.equal(res.error.code, code, name);
  }
});

test("statement timeout: a slow call as a signed-in user fails with 57014", async () => {
  const sb = as(fx.tokens.owner_a);
  const quick = await sb.rpc("test_slow", { p_seconds: 0.01 });
  assert.equal(quick.data, 1);
  const slow = await sb.rpc("test_slow", { p_seconds: 30 });
  assert.equal(slow.status, 500);
  assert.equal(slow.error.code, "57014");
});

// Waits for a condition the Realtime callbacks make true (polled: they run on this event loop).
async function until(predicate, what, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("realtime: a member gets their hotel's changes and never another hotel's", async () => {
  const seen = { a: [], b: [] };
  const clients = [];
  try {
    for (const [name, token] of [["a", fx.tokens.staff_a], ["b", fx.tokens.owner_b]]) {
      const sb = as(token);
      clients.push(sb);
      await sb.realtime.setAuth(token);
      let ready = false;
      let failed = null;
      sb.channel(`js-dashboard-${name}`)
        .on("postgres_changes", { event: "INSERT", schema: "public", table: "message_logs" }, (change) => {
          seen[name].push(change.new.id);
        })
        // Realtime's readiness: after the join's reply, once it listens to PostgreSQL
        .on("system", {}, (message) => {
          if (String(message.message).includes("Subscribed to PostgreSQL")) ready = true;
        })
        .subscribe((status, error) => {
          if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") failed = error ?? new Error(status);
        });
      await until(() => ready || failed, `hotel ${name}'s subscription`);
      assert.equal(failed, null);
    }
    const service = as(fx.tokens.service);
    const insert = async (tenant, body) => {
      const res = await service.from("message_logs").insert({
        tenant_id: tenant,
        template_key: "js_realtime",
        dedupe_key: `js:${crypto.randomUUID()}`,
        to_phone: "+4915112345678",
        body,
        status: "queued",
      }).select("id").single();
      assert.equal(res.error, null);
      return res.data.id;
    };
    const forA = await insert(fx.tenant_a, "for A");
    // B's own change comes after A's in the log: once B has it, a leak of A's would be there
    const forB = await insert(fx.tenant_b, "for B");
    await until(() => seen.b.includes(forB) && seen.a.includes(forA), "both changes");
    assert.deepEqual(seen.b, [forB]);
    assert.deepEqual(seen.a, [forA]);
  } finally {
    for (const sb of clients) await sb.removeAllChannels();
  }
});
