// The local server: every function under /functions/v1/<name> over real HTTP, in-process and
// as the process `make functions` starts.
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { MAX_BODY_BYTES } from "./_shared/http.ts";
import { serveFunctions } from "./serve.ts";
import { LOCAL_JWT_SECRET } from "./waha-session/auth.ts";
import { rawRequest } from "./_testing/raw_http.ts";
import {
  accessToken,
  countEvents,
  createPmsConfig,
  createTenant,
  createWahaConfig,
  eventsOf,
  freePort,
  genericBody,
  newStandardSecret,
  sample,
  standardWebhookRequest,
  TEST_JWT_SECRET,
  testDatabaseUrl,
  testSql,
  wahaRequest,
} from "./_testing/fixtures.ts";

const sql = testSql();
const opts = { sanitizeOps: false, sanitizeResources: false };

/** Sends a Request built for the handler tests to a real server instead. */
async function post(base: string, req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  return await fetch(`${base}/functions/v1${path}`, {
    method: req.method,
    headers: req.headers,
    body: await req.arrayBuffer(),
  });
}

Deno.test("the local server routes /functions/v1/<name> to each function over HTTP", opts, async () => {
  const controller = new AbortController();
  const { url } = serveFunctions({ databaseUrl: testDatabaseUrl(), port: 0, signal: controller.signal, log: () => {} });
  try {
    const tenant = await createTenant(sql, "serve");
    const secret = newStandardSecret();
    await createPmsConfig(sql, tenant, "generic", "standard_webhooks", secret);
    const req = await standardWebhookRequest(`/pms-webhook/generic/${tenant.webhookKey}`, genericBody(), secret, {
      headers: { "x-request-id": "served-1" },
    });
    const res = await post(url, req);
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("x-request-id"), "served-1");
    await res.body?.cancel();
    assert.equal((await eventsOf(sql, tenant))[0].request_id, "served-1");

    const unknown = await fetch(`${url}/functions/v1/nope`, { method: "POST" });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const health = await fetch(`${url}/health`);
    assert.deepEqual((await health.json()).functions, ["pms-webhook", "waha-webhook", "waha-session", "team-invite"]);

    // A streamed upload past the cap is refused while it is still being sent.
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > 20 * MAX_BODY_BYTES) return c.close();
        sent += 65536;
        c.enqueue(new Uint8Array(65536).fill(0x20));
      },
    });
    const big = await fetch(`${url}/functions/v1/pms-webhook/generic/${tenant.webhookKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: endless,
    }).catch((error) => error as Error);
    // The server answers 413 early; depending on timing the client sees that or a reset.
    if (big instanceof Response) {
      assert.equal(big.status, 413);
      await big.body?.cancel();
    }
    assert.equal(await countEvents(sql, tenant), 1);
  } finally {
    controller.abort();
  }
});

Deno.test(
  "names every object has are not functions, TRACE and TRACK are 405; each answer is logged",
  opts,
  async () => {
    const controller = new AbortController();
    const lines: Record<string, unknown>[] = [];
    const { server } = serveFunctions({
      databaseUrl: testDatabaseUrl(),
      port: 0,
      signal: controller.signal,
      log: (line) => lines.push(line),
    });
    const port = server.addr.port;
    try {
      for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"]) {
        lines.length = 0;
        const res = await fetch(`http://127.0.0.1:${port}/functions/v1/${name}`, { method: "POST", body: "{}" });
        assert.equal(res.status, 404, name);
        assert.equal((await res.json()).error, "not_found");
        assert.deepEqual(lines.map((l) => [l.fn, l.status, l.outcome]), [["router", 404, "rejected"]]);
      }
      for (const method of ["TRACE", "TRACK"]) {
        lines.length = 0;
        const res = await rawRequest(port, { method, target: "/functions/v1/pms-webhook/generic/x", headers: [] });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "POST, OPTIONS");
        assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
        assert.deepEqual(lines.map((l) => [l.fn, l.method, l.status]), [["pms-webhook", method, 405]]);
      }
      lines.length = 0;
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      await health.body?.cancel();
      assert.deepEqual(lines.map((l) => [l.fn, l.status, l.outcome]), [["router", 200, "health"]]);
    } finally {
      controller.abort();
      await server.finished;
    }
  },
);

Deno.test("`deno run serve.ts` serves the functions and stops cleanly on SIGTERM", opts, async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "serve.ts", "--allow-local-jwt-secret"],
    cwd: new URL(".", import.meta.url).pathname,
    env: { PORT: String(port), SUPABASE_DB_URL: testDatabaseUrl() },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const lines: string[] = [];
  try {
    const first = await output.read();
    lines.push(first.value ?? "");
    assert.match(lines[0], /"msg":"edge functions listening"/);

    const tenant = await createTenant(sql, "serve-process");
    const { hmacKey } = await createWahaConfig(sql, tenant);
    const event = JSON.stringify({
      ...sample("waha", "message"),
      id: `evt_${crypto.randomUUID()}`,
      timestamp: Date.now(),
    });
    const res = await post(
      `http://127.0.0.1:${port}`,
      await wahaRequest(`/waha-webhook/${tenant.webhookKey}`, event, hmacKey),
    );
    assert.equal(res.status, 202);
    await res.body?.cancel();
    assert.equal((await eventsOf(sql, tenant))[0].event_type, "message");

    // Its log line for that request is one JSON object with the fields the runbook queries.
    const { value } = await output.read();
    const line = JSON.parse(value!.trim().split("\n")[0]);
    assert.equal(line.fn, "waha-webhook");
    assert.equal(line.tenantId, tenant.id);
    assert.equal(line.outcome, "stored");
    assert.equal(line.eventType, "message");
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await output.cancel();
    await child.stderr.cancel();
    assert.equal(status.code, 0);
  }
});

/** `deno run serve.ts` with these settings; no key source unless `env` gives one. */
function spawnServer(port: number, env: Record<string, string>, args: string[] = []) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "serve.ts", ...args],
    cwd: new URL(".", import.meta.url).pathname,
    env: {
      PORT: String(port),
      SUPABASE_DB_URL: testDatabaseUrl(),
      SUPABASE_JWKS: "",
      SUPABASE_URL: "",
      AUTH_JWT_SECRET: "",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("without a key source for users' tokens, serve.ts refuses to start", opts, async () => {
  const port = freePort();
  const { code, stderr } = await spawnServer(port, {}).output();
  assert.equal(code, 2);
  assert.match(new TextDecoder().decode(stderr), /no key source for users' tokens.*--allow-local-jwt-secret/);
  // Nothing listens there.
  const refused = await fetch(`http://127.0.0.1:${port}/health`).catch((error) => error as Error);
  assert.ok(refused instanceof Error);
});

Deno.test("with AUTH_JWT_SECRET, serve.ts uses it and not the CLI's published secret", opts, async () => {
  const port = freePort();
  const child = spawnServer(port, { AUTH_JWT_SECRET: TEST_JWT_SECRET });
  const output = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const first = await output.read();
    assert.match(first.value ?? "", /"userTokens":"configured keys"/);
    const call = async (token: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/functions/v1/waha-session`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ action: "status", tenant_id: crypto.randomUUID() }),
      });
      await res.body?.cancel();
      return res.status;
    };
    const user = crypto.randomUUID();
    assert.equal(await call(await accessToken(user, { secret: LOCAL_JWT_SECRET })), 401);
    assert.equal(await call(await accessToken(user)), 403); // signed in, not a member
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await output.cancel();
    await child.stderr.cancel();
  }
});

Deno.test("with SUPABASE_JWKS, serve.ts accepts the project's ES256 tokens and no HS256 ones", opts, async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
  const port = freePort();
  const child = spawnServer(port, { SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }) });
  const output = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await output.read();
    const call = async (token: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/functions/v1/waha-session`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ action: "status", tenant_id: crypto.randomUUID() }),
      });
      await res.body?.cancel();
      return res.status;
    };
    const user = crypto.randomUUID();
    const es256 = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "ES256", kid: "key-1" })
      .setSubject(user).setAudience("authenticated").setExpirationTime("5m").sign(privateKey);
    assert.equal(await call(es256), 403); // signed in, not a member
    assert.equal(await call(await accessToken(user, { secret: LOCAL_JWT_SECRET })), 401);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await output.cancel();
    await child.stderr.cancel();
  }
});

Deno.test("close the test database client", opts, async () => {
  await sql.end();
});
