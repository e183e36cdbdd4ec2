// Token verification the way each deployment gets it: the project's published signing keys
// (SUPABASE_JWKS, or fetched from SUPABASE_URL), and the legacy HS256 secret under a name of ours.
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { HttpError } from "../_shared/http.ts";
import { accessToken, TEST_JWT_SECRET } from "../_testing/fixtures.ts";
import { authenticatedUser, jwtVerifier, jwtVerifierFromEnv } from "./auth.ts";

const env = (values: Record<string, string>) => ({ get: (key: string) => values[key] });
const request = (token: string) =>
  new Request("http://x/waha-session", { headers: { authorization: `Bearer ${token}` } });
const ISSUER = "https://abcdefghijklmnopqrst.supabase.co/auth/v1";

/** The status authenticatedUser ends in (200: accepted) and the HttpError's message. */
async function outcome(token: string, verify: ReturnType<typeof jwtVerifier>): Promise<[number, string]> {
  try {
    await authenticatedUser(request(token), verify);
    return [200, "ok"];
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    return [error.status, error.message];
  }
}
const status = async (token: string, verify: ReturnType<typeof jwtVerifier>) => (await outcome(token, verify))[0];

/** A signing key as Supabase Auth has one: a private key, and its public JWK with a kid. */
async function signingKey(kid: string, alg: "ES256" | "RS256" = "ES256") {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const sign = (user: string, claims: Record<string, unknown> = {}, issuer = ISSUER) =>
    new SignJWT({ role: "authenticated", ...claims })
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setSubject(user)
      .setAudience("authenticated")
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
  return { jwk, sign };
}

/** A project's Auth serving its JWKS, with the keys changeable and the fetches counted. */
function jwksServer(keys: JWK[]) {
  const state = { keys, fetches: 0, failing: false };
  const controller = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: controller.signal, onListen: () => {} },
    (req) => {
      if (new URL(req.url).pathname !== "/auth/v1/.well-known/jwks.json") return new Response("no", { status: 404 });
      state.fetches++;
      return state.failing ? new Response("down", { status: 500 }) : Response.json({ keys: state.keys });
    },
  );
  return {
    state,
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
    },
  };
}

Deno.test("ES256 and RS256 tokens are checked against SUPABASE_JWKS, without any fetch", async () => {
  const es = await signingKey("es-1");
  const rs = await signingKey("rs-1", "RS256");
  const verify = jwtVerifierFromEnv(env({ SUPABASE_JWKS: JSON.stringify({ keys: [es.jwk, rs.jwk] }) }));
  const user = crypto.randomUUID();
  assert.equal(await authenticatedUser(request(await es.sign(user)), verify), user);
  assert.equal(await authenticatedUser(request(await rs.sign(user)), verify), user);
  // The bare-array form some tools use is read too.
  const bare = jwtVerifierFromEnv(env({ SUPABASE_JWKS: JSON.stringify([es.jwk]) }));
  assert.equal(await authenticatedUser(request(await es.sign(user)), bare), user);
  // Not a user's token: the service role, or no subject.
  assert.equal(await status(await es.sign(user, { role: "service_role" }), verify), 401);
});

Deno.test("without SUPABASE_JWKS, the keys are fetched from SUPABASE_URL once and cached", async () => {
  const key = await signingKey("key-1");
  await using auth = jwksServer([key.jwk]);
  const verify = jwtVerifierFromEnv(env({ SUPABASE_URL: auth.url }));
  for (let i = 0; i < 5; i++) {
    const user = crypto.randomUUID();
    assert.equal(await authenticatedUser(request(await key.sign(user)), verify), user);
  }
  assert.equal(auth.state.fetches, 1);
});

Deno.test("a rotated-in key is fetched when its tokens arrive; a revoked one stops working", async () => {
  const old = await signingKey("old");
  const next = await signingKey("new");
  await using auth = jwksServer([old.jwk]);
  const verify = jwtVerifier({ supabaseUrl: auth.url, cooldownMs: 0, cacheMaxAgeMs: 0 });
  const user = crypto.randomUUID();
  assert.equal(await status(await old.sign(user), verify), 200);
  assert.equal(await status(await next.sign(user), verify), 401); // not published yet

  auth.state.keys = [old.jwk, next.jwk]; // the project rotates: new key in use, old still valid
  assert.equal(await status(await next.sign(user), verify), 200);
  assert.equal(await status(await old.sign(user), verify), 200);

  auth.state.keys = [next.jwk]; // the old key is revoked
  assert.equal(await status(await old.sign(user), verify), 401);
  assert.equal(await status(await next.sign(user), verify), 200);
});

Deno.test("SUPABASE_JWKS from before a rotation: the new key comes from the published set", async () => {
  const old = await signingKey("old");
  const next = await signingKey("new");
  await using auth = jwksServer([old.jwk, next.jwk]);
  const verify = jwtVerifierFromEnv(
    env({ SUPABASE_JWKS: JSON.stringify({ keys: [old.jwk] }), SUPABASE_URL: auth.url }),
  );
  const user = crypto.randomUUID();
  assert.equal(await status(await old.sign(user), verify), 200);
  assert.equal(auth.state.fetches, 0);
  assert.equal(await status(await next.sign(user), verify), 200);
  assert.equal(auth.state.fetches, 1);
});

Deno.test("unknown key ids do not make the function refetch the keys for every request", async () => {
  const key = await signingKey("key-1");
  await using auth = jwksServer([key.jwk]);
  const verify = jwtVerifier({ supabaseUrl: auth.url }); // the default 30 s cooldown
  assert.equal(await status(await key.sign(crypto.randomUUID()), verify), 200);
  for (let i = 0; i < 20; i++) {
    const forged = await signingKey(`forged-${i}`);
    assert.equal(await status(await forged.sign(crypto.randomUUID()), verify), 401);
  }
  assert.equal(auth.state.fetches, 1);
});

Deno.test("tokens of another project are refused: another key, another secret, another issuer", async () => {
  const ours = await signingKey("key-1");
  const theirs = await signingKey("key-1"); // even under the same key id
  const user = crypto.randomUUID();
  const verify = jwtVerifier({ jwks: JSON.stringify({ keys: [ours.jwk] }), hs256Secret: TEST_JWT_SECRET });
  assert.equal(await status(await ours.sign(user), verify), 200);
  assert.equal(await status(await theirs.sign(user), verify), 401);
  assert.equal(await status(await accessToken(user), verify), 200);
  assert.equal(
    await status(await accessToken(user, { secret: "another-projects-secret-of-32-characters" }), verify),
    401,
  );

  const strict = jwtVerifier({ jwks: JSON.stringify({ keys: [ours.jwk] }), issuer: ISSUER });
  assert.equal(await status(await ours.sign(user), strict), 200);
  assert.equal(await status(await ours.sign(user, {}, "https://otherprojectref0000.supabase.co/auth/v1"), strict), 401);
});

Deno.test("HS256 only with AUTH_JWT_SECRET; SUPABASE_JWT_SECRET is reserved and not read", async () => {
  const user = crypto.randomUUID();
  const legacy = jwtVerifierFromEnv(env({ AUTH_JWT_SECRET: TEST_JWT_SECRET }));
  assert.equal(await authenticatedUser(request(await accessToken(user)), legacy), user);

  const reserved = jwtVerifierFromEnv(env({ SUPABASE_JWT_SECRET: TEST_JWT_SECRET }));
  assert.equal(await status(await accessToken(user), reserved), 503);

  // A project on signing keys only: an HS256 token (say, signed with a leaked legacy secret) fails.
  const key = await signingKey("key-1");
  const asymmetricOnly = jwtVerifierFromEnv(env({ SUPABASE_JWKS: JSON.stringify({ keys: [key.jwk] }) }));
  assert.equal(await status(await accessToken(user), asymmetricOnly), 401);
});

Deno.test("alg none, key confusion and API keys in place of a token are refused", async () => {
  const key = await signingKey("key-1");
  const user = crypto.randomUUID();
  const verify = jwtVerifier({ jwks: JSON.stringify({ keys: [key.jwk] }), hs256Secret: TEST_JWT_SECRET });
  const unsigned = new UnsecuredJWT({ role: "authenticated" }).setSubject(user).setAudience("authenticated")
    .setExpirationTime("5m").encode();
  assert.equal(await status(unsigned, verify), 401);
  // HS256 keyed with the public key's bytes (the classic RS/HS confusion): not our secret.
  const confused = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256", kid: "key-1" })
    .setSubject(user).setAudience("authenticated").setExpirationTime("5m")
    .sign(new TextEncoder().encode(JSON.stringify(key.jwk)));
  assert.equal(await status(confused, verify), 401);
  assert.deepEqual(await outcome("sb_publishable_abcdefghijklmnopqrstuvwx_12345678", verify), [
    401,
    "sign in: an API key is not a user's access token",
  ]);
  assert.equal(await status("not.a.token", verify), 401);
});

Deno.test("Auth unreachable: 503 with Retry-After, not 'invalid token', and no fetch storm", async () => {
  const key = await signingKey("key-1");
  await using auth = jwksServer([key.jwk]);
  auth.state.failing = true;
  const verify = jwtVerifier({ supabaseUrl: auth.url }); // the default 10 s after a failure
  for (let i = 0; i < 10; i++) {
    try {
      await authenticatedUser(request(await key.sign(crypto.randomUUID())), verify);
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 503);
      assert.equal(error.headers["retry-after"], "30");
    }
  }
  assert.equal(auth.state.fetches, 1);

  // Once the backoff is over (none here) and Auth is back, tokens are accepted again.
  const recovering = jwtVerifier({ supabaseUrl: auth.url, failureBackoffMs: 0 });
  assert.equal(await status(await key.sign(crypto.randomUUID()), recovering), 503);
  auth.state.failing = false;
  assert.equal(await status(await key.sign(crypto.randomUUID()), recovering), 200);
});

Deno.test("with no key source, or a broken SUPABASE_JWKS, the function says so instead of accepting anything", async () => {
  const token = await accessToken(crypto.randomUUID());
  assert.equal(await status(token, jwtVerifierFromEnv(env({}))), 503);
  const [code, message] = await outcome(token, jwtVerifierFromEnv(env({ SUPABASE_JWKS: "{not json" })));
  assert.equal(code, 503);
  assert.match(message, /SUPABASE_JWKS/);
});
