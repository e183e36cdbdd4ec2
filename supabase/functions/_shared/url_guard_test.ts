// The outbound URL policy in the functions: the same cases as the database and the worker
// (shared/vectors/outbound-urls.json), and the check of resolved addresses.
import assert from "node:assert/strict";
import { vectors } from "../_testing/fixtures.ts";
import { addressRefusal, allowLocalUrlsFromEnv, assertCallable, urlRefusal, UrlRefused } from "./url_guard.ts";

const CASES = vectors<{ urls: { url: string; public: boolean; local: boolean }[] }>("outbound-urls").urls;

Deno.test("every case of the shared vectors is judged as the database judges it", () => {
  for (const c of CASES) {
    assert.equal(urlRefusal(c.url, false) === null, c.public, `${c.url} (deployment)`);
    assert.equal(urlRefusal(c.url, true) === null, c.local, `${c.url} (local development)`);
  }
});

Deno.test("addresses a name resolves to are judged like literal ones", () => {
  for (const address of ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1", "fd00::5", "fe80::1"]) {
    assert.notEqual(addressRefusal(address), null, address);
  }
  for (const address of ["93.184.216.34", "2606:4700:4700::1111"]) assert.equal(addressRefusal(address), null, address);
});

Deno.test("a public name that resolves to a private address is refused before any call", async () => {
  const rebound = (host: string) =>
    Promise.resolve(host === "waha.hotel-example.com" ? ["93.184.216.34", "10.0.0.7"] : []);
  await assert.rejects(
    assertCallable("https://waha.hotel-example.com/", false, rebound),
    (error: unknown) => error instanceof UrlRefused && /resolves to 10\.0\.0\.7, a private address/.test(error.message),
  );
  await assert.rejects(assertCallable("https://nowhere.hotel-example.com/", false, rebound), /does not resolve/);
  await assertCallable("https://waha.hotel-example.com/", false, () => Promise.resolve(["93.184.216.34"]));
  // Local development: no lookups, loopback allowed.
  await assertCallable("http://127.0.0.1:3000/", true, () => Promise.reject(new Error("not asked")));
});

Deno.test("ALLOW_LOCAL_URLS is off unless set to a true value", () => {
  const env = (value?: string) => ({ get: (k: string) => (k === "ALLOW_LOCAL_URLS" ? value : undefined) });
  assert.equal(allowLocalUrlsFromEnv(env()), false);
  assert.equal(allowLocalUrlsFromEnv(env("false")), false);
  assert.equal(allowLocalUrlsFromEnv(env("true")), true);
  assert.equal(allowLocalUrlsFromEnv(env("1")), true);
});
