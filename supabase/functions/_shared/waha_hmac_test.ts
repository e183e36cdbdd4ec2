import assert from "node:assert/strict";
import { utf8 } from "./crypto.ts";
import { sign, verify } from "./waha_hmac.ts";
import { vectors } from "../_testing/fixtures.ts";

interface Vectors {
  verify: {
    name: string;
    secrets: string[];
    hmac: string | null;
    algorithm: string | null;
    body: string;
    valid: boolean;
  }[];
}

for (const v of vectors<Vectors>("waha-hmac").verify) {
  Deno.test(`WAHA HMAC verifies: ${v.name}`, async () => {
    const headers = new Headers();
    if (v.hmac !== null) headers.set("x-webhook-hmac", v.hmac);
    if (v.algorithm !== null) headers.set("x-webhook-hmac-algorithm", v.algorithm);
    assert.equal((await verify(headers, utf8(v.body), v.secrets)).ok, v.valid);
    if (v.valid && v.hmac !== null && v.hmac === v.hmac.toLowerCase() && v.secrets.length === 1) {
      assert.equal(await sign(v.secrets[0], utf8(v.body)), v.hmac);
    }
  });
}
