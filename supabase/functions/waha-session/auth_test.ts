// Token verification the way each deployment gets it: the project's HS256 secret, or the
// project's published signing keys (JWKS), as Supabase projects with asymmetric keys have.
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { HttpError } from "../_shared/http.ts";
import { accessToken, TEST_JWT_SECRET } from "../_testing/fixtures.ts";
import { authenticatedUser, jwtVerifierFromEnv } from "./auth.ts";

const env = (values: Record<string, string>) => ({ get: (key: string) => values[key] });
const request = (token: string) =>
  new Request("http://x/waha-session", { headers: { authorization: `Bearer ${token}` } });

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    assert.ok(error instanceof HttpError);
    return error.status;
  }
}

Deno.test("with SUPABASE_JWT_SECRET, HS256 tokens of that secret are accepted", async () => {
  const verify = jwtVerifierFromEnv(env({ SUPABASE_JWT_SECRET: TEST_JWT_SECRET }));
  const user = crypto.randomUUID();
  assert.equal(await authenticatedUser(request(await accessToken(user)), verify), user);
  assert.equal(
    await status(authenticatedUser(request(await accessToken(user, { secret: "x".repeat(40) })), verify)),
    401,
  );
});

Deno.test("without a secret, tokens are checked against SUPABASE_URL's published keys", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
  const controller = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: controller.signal, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/auth/v1/.well-known/jwks.json"
        ? Response.json({ keys: [jwk] })
        : new Response("not found", { status: 404 }),
  );
  try {
    const verify = jwtVerifierFromEnv(env({ SUPABASE_URL: `http://127.0.0.1:${server.addr.port}` }));
    const user = crypto.randomUUID();
    const signed = await new SignJWT({ role: "authenticated" })
      .setProtectedHeader({ alg: "ES256", kid: "key-1" })
      .setSubject(user)
      .setAudience("authenticated")
      .setExpirationTime("5m")
      .sign(privateKey);
    assert.equal(await authenticatedUser(request(signed), verify), user);
    // An HS256 token (e.g. signed with a leaked anon key's secret) is not accepted here.
    assert.equal(await status(authenticatedUser(request(await accessToken(user)), verify)), 401);
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("with neither configured, the function says so instead of accepting anything", async () => {
  const verify = jwtVerifierFromEnv(env({}));
  assert.equal(await status(authenticatedUser(request(await accessToken(crypto.randomUUID())), verify)), 503);
});
