// waha-session against the WAHA simulator (devstack/simulators/waha.py, which checks every
// request against WAHA's OpenAPI spec), through the local functions server: the session WAHA
// ends up with posts its session.status webhooks to waha-webhook, signed with the HMAC key
// waha-session configured, and they are stored.
import assert from "node:assert/strict";
import { serveFunctions } from "../serve.ts";
import {
  accessToken,
  createMember,
  createTenant,
  createWahaConfig,
  eventsOf,
  type StoredRow,
  TEST_JWT_SECRET,
  testDatabaseUrl,
  testSql,
} from "../_testing/fixtures.ts";
import { WEBHOOK_EVENTS, WEBHOOK_RETRIES } from "./handler.ts";

const ROOT = new URL("../../../", import.meta.url);
const API_KEY = `sim-key-${crypto.randomUUID()}`;
const opts = { sanitizeOps: false, sanitizeResources: false };

/** Starts the simulator on a free port and returns its base URL once it listens. */
async function startSimulator(): Promise<{ url: string; process: Deno.ChildProcess }> {
  const process = new Deno.Command(new URL(".venv/bin/python", ROOT).pathname, {
    args: ["-m", "devstack.simulators.waha", "--port", "0", "--api-key", API_KEY, "--ack-delays-ms", "off"],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
    const match = seen.match(/listening on (http:\/\/\S+)/);
    if (match) {
      // Keep draining its output so the pipe never fills.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      return { url: match[1], process };
    }
  }
  process.kill("SIGKILL");
  throw new Error(`the WAHA simulator did not start: ${seen}`);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "waha-session drives a WAHA session whose signed webhooks land in inbound_events",
  ...opts,
  fn: async (t) => {
    const sql = testSql();
    const simulator = await startSimulator();
    const controller = new AbortController();
    const { url } = serveFunctions({
      databaseUrl: testDatabaseUrl(),
      port: 0,
      jwtSecret: TEST_JWT_SECRET,
      // The simulator listens on http://127.0.0.1: local development's setting.
      allowLocalUrls: true,
      signal: controller.signal,
      log: () => {},
    });
    try {
      const tenant = await createTenant(sql, "waha-sim");
      const sessionName = `hotel_${crypto.randomUUID().slice(0, 8)}`;
      const { configId } = await createWahaConfig(sql, tenant, simulator.url, sessionName);
      await sql`select public.set_waha_api_key(${configId}::uuid, ${API_KEY})`;
      const token = await accessToken(await createMember(sql, tenant, "admin"));
      const texts: string[] = [];
      const call = async (body: Record<string, unknown>) => {
        const res = await fetch(`${url}/functions/v1/waha-session`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ tenant_id: tenant.id, ...body }),
        });
        const text = await res.text();
        texts.push(text);
        return { status: res.status, body: JSON.parse(text) };
      };
      const statuses = async () =>
        (await eventsOf(sql, tenant)).filter((r: StoredRow) => r.event_type === "session.status").map((r) =>
          (r.payload.payload as { status: string }).status
        );
      const wahaGet = async (path: string) =>
        await (await fetch(`${simulator.url}${path}`, { headers: { "x-api-key": API_KEY } })).json();

      await t.step("start creates the session with our webhook and returns the QR code", async () => {
        const { status, body } = await call({ action: "start" });
        assert.equal(status, 200);
        // No phone is linked yet.
        assert.deepEqual(body.session, { name: sessionName, status: "SCAN_QR_CODE", phone: null });
        assert.equal(body.qr.mimetype, "image/png");
        const png = Uint8Array.from(atob(body.qr.data), (c) => c.charCodeAt(0));
        assert.deepEqual([...png.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

        const info = await wahaGet(`/api/sessions/${sessionName}`);
        assert.equal(info.config.webhooks.length, 1);
        const [webhook] = info.config.webhooks;
        assert.equal(webhook.url, `${url}/functions/v1/waha-webhook/${tenant.webhookKey}`);
        assert.deepEqual(webhook.events, WEBHOOK_EVENTS);
        assert.deepEqual(webhook.retries, WEBHOOK_RETRIES);
        assert.match(webhook.hmac.key, /^[0-9a-f]{64}$/);
      });

      await t.step("WAHA's signed session.status webhooks are verified and stored", async () => {
        await waitFor("STARTING and SCAN_QR_CODE", async () => {
          const seen = await statuses();
          return seen.includes("SCAN_QR_CODE") ? seen : undefined;
        });
      });

      await t.step("once the phone scans the code the session is WORKING, and says so", async () => {
        const pair = await fetch(`${simulator.url}/_sim/sessions/${sessionName}/pair`, { method: "POST" });
        assert.equal(pair.status, 200);
        await pair.body?.cancel();
        await waitFor("WORKING", async () => (await statuses()).includes("WORKING") ? true : undefined);
        const { status, body } = await call({ action: "status" });
        assert.equal(status, 200);
        // The linked phone's number, as WAHA reports it in `me` (<digits>@c.us).
        const me = (await wahaGet(`/api/sessions/${sessionName}`)).me.id as string;
        assert.match(me, /^\d+@c\.us$/);
        assert.deepEqual(body, {
          session: { name: sessionName, status: "WORKING", phone: `+${me.split("@")[0]}` },
          qr: null,
          request_id: body.request_id,
        });
        const qr = await call({ action: "qr" });
        assert.equal(qr.status, 409);
        assert.equal(qr.body.error, "wrong_session_status");
      });

      await t.step("start again keeps one webhook; rotating its key keeps webhooks verifiable", async () => {
        const before = (await wahaGet(`/api/sessions/${sessionName}`)).config.webhooks[0].hmac.key;
        assert.equal((await call({ action: "start" })).status, 200);
        const same = (await wahaGet(`/api/sessions/${sessionName}`)).config.webhooks;
        assert.equal(same.length, 1);
        assert.equal(same[0].hmac.key, before);

        const stored = (await statuses()).length;
        assert.equal((await call({ action: "start", rotate_webhook_secret: true })).status, 200);
        const after = (await wahaGet(`/api/sessions/${sessionName}`)).config.webhooks[0].hmac.key;
        assert.notEqual(after, before);
        // The update restarted the session: its status webhooks, signed with the new key, arrive.
        await waitFor(
          "webhooks signed with the rotated key",
          async () => (await statuses()).length > stored + 1 ? true : undefined,
        );
      });

      await t.step("logout unlinks the phone; a pairing code can replace the QR scan", async () => {
        const out = await call({ action: "logout" });
        assert.equal(out.status, 200);
        assert.equal(out.body.session.status, "SCAN_QR_CODE");
        const code = await call({ action: "pairing_code", phone_number: "+49 30 1234567" });
        assert.equal(code.status, 200);
        assert.match(code.body.code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
        const restarted = await call({ action: "restart" });
        assert.equal(restarted.status, 200);
        assert.equal(restarted.body.session.status, "SCAN_QR_CODE");
      });

      await t.step("a key WAHA rejects is reported as such, and no answer ever contains the key", async () => {
        await sql`select public.set_waha_api_key(${configId}::uuid, 'not-the-right-key')`;
        const { status, body } = await call({ action: "status" });
        assert.equal(status, 502);
        assert.equal(body.error, "waha_rejected_api_key");
        assert.ok(texts.every((text) => !text.includes(API_KEY)));
      });

      await t.step("every request followed WAHA's spec and every webhook was accepted", async () => {
        assert.deepEqual(await (await fetch(`${simulator.url}/_sim/violations`)).json(), []);
        type Delivery = { session: string; status: number | null; delivered: boolean; error: string | null };
        // The last steps' status webhooks may still be on their way: judge them once they have landed.
        const ours = await waitFor("the session's webhooks to finish their deliveries", async () => {
          const all = (await (await fetch(`${simulator.url}/_sim/webhooks`)).json()) as Delivery[];
          const mine = all.filter((d) => d.session === sessionName);
          return mine.some((d) => d.status === null && d.error === null) ? undefined : mine;
        });
        assert.ok(ours.length >= 5, `${ours.length} deliveries`);
        assert.ok(ours.every((d) => d.delivered && (d.status === 200 || d.status === 202)), JSON.stringify(ours));
      });
    } finally {
      controller.abort();
      simulator.process.kill("SIGTERM");
      await simulator.process.status;
      await sql.end();
    }
  },
});
