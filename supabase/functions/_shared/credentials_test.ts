import assert from "node:assert/strict";
import { verifyBasic, verifyToken } from "./credentials.ts";

const url = (query = "") => new URL(`http://functions.test/pms-webhook/mews/key${query}`);

Deno.test("a token is accepted from the query string, X-Webhook-Token or a bearer header", async () => {
  const secrets = ["new-token-0123456789", "old-token-0123456789"];
  assert.ok((await verifyToken(new Headers(), url("?token=old-token-0123456789"), secrets)).ok);
  assert.ok((await verifyToken(new Headers({ "x-webhook-token": "new-token-0123456789" }), url(), secrets)).ok);
  assert.ok((await verifyToken(new Headers({ authorization: "Bearer new-token-0123456789" }), url(), secrets)).ok);
});

Deno.test("a wrong, missing or rotated-out token is refused", async () => {
  const secrets = ["new-token-0123456789"];
  assert.deepEqual(await verifyToken(new Headers(), url("?token=old-token-0123456789"), secrets), {
    ok: false,
    failure: "credentials",
  });
  assert.deepEqual(await verifyToken(new Headers(), url("?token=new-token-012345678"), secrets), {
    ok: false,
    failure: "credentials",
  });
  assert.deepEqual(await verifyToken(new Headers(), url(), secrets), { ok: false, failure: "headers" });
  assert.deepEqual(await verifyToken(new Headers(), url("?token=new-token-0123456789"), []), {
    ok: false,
    failure: "credentials",
  });
});

Deno.test("basic auth compares the decoded user:password bytes", async () => {
  const secrets = ["apaleo:s3cret-pässword"];
  const header = (text: string) => ({
    authorization: `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}`,
  });
  assert.ok((await verifyBasic(new Headers(header("apaleo:s3cret-pässword")), secrets)).ok);
  assert.equal((await verifyBasic(new Headers(header("apaleo:s3cret-passsword")), secrets)).ok, false);
  assert.equal((await verifyBasic(new Headers(header("other:s3cret-pässword")), secrets)).ok, false);
  assert.equal((await verifyBasic(new Headers({ authorization: "Basic !!!" }), secrets)).ok, false);
  assert.equal((await verifyBasic(new Headers({ authorization: "Bearer x" }), secrets)).ok, false);
  assert.equal((await verifyBasic(new Headers(), secrets)).ok, false);
});
