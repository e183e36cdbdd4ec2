import assert from "node:assert/strict";
import { utf8 } from "./crypto.ts";
import { sign, TOLERANCE_SECONDS, verify } from "./standard_webhooks.ts";
import { vectors } from "../_testing/fixtures.ts";

interface Vectors {
  tolerance_seconds: number;
  sign: { name: string; secret: string; id: string; timestamp: number; body: string; signature: string }[];
  verify: {
    name: string;
    secrets: string[];
    headers: Record<string, string>;
    body: string;
    now: number;
    valid: boolean;
    reason?: string;
  }[];
}

const VECTORS = vectors<Vectors>("standard-webhooks");

Deno.test("the tolerance is the one the vectors assume", () => {
  assert.equal(TOLERANCE_SECONDS, VECTORS.tolerance_seconds);
});

for (const v of VECTORS.sign) {
  Deno.test(`Standard Webhooks signs: ${v.name}`, async () => {
    assert.equal(await sign(v.secret, v.id, v.timestamp, utf8(v.body)), v.signature);
  });
}

for (const v of VECTORS.verify) {
  Deno.test(`Standard Webhooks verifies: ${v.name}`, async () => {
    const result = await verify(new Headers(v.headers), utf8(v.body), v.secrets, v.now);
    assert.equal(result.ok, v.valid);
    if (!result.ok) assert.equal(result.failure, v.reason);
  });
}
