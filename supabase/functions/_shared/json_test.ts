import assert from "node:assert/strict";
import { assertStorable, canonicalJson, MAX_DEPTH, parseJson } from "./json.ts";
import { HttpError } from "./http.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function status(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
  return undefined;
}

Deno.test("invalid JSON and invalid UTF-8 are 400", () => {
  assert.equal(status(() => parseJson(bytes("{not json"))), 400);
  assert.equal(status(() => parseJson(bytes(""))), 400);
  assert.equal(status(() => parseJson(new Uint8Array([0x7b, 0xff, 0x7d]))), 400);
  assert.deepEqual(parseJson(bytes('{"a": [1, "zoë"]}')), { a: [1, "zoë"] });
});

Deno.test("values jsonb cannot store are 422", () => {
  assert.equal(status(() => assertStorable(JSON.parse('{"a": "x\\u0000y"}'))), 422);
  assert.equal(status(() => assertStorable(JSON.parse('{"a\\u0000": 1}'))), 422);
  assert.equal(status(() => assertStorable(JSON.parse('{"a": "\\ud800"}'))), 422);
  assert.equal(status(() => assertStorable(JSON.parse('{"a": 1e400}'))), 422);
  assert.equal(status(() => assertStorable(JSON.parse('{"a": ["😀", -0, 1e-300]}'))), undefined);
});

Deno.test("nesting is bounded", () => {
  const deep = (n: number) => JSON.parse("[".repeat(n) + "]".repeat(n));
  assert.equal(status(() => assertStorable(deep(MAX_DEPTH))), undefined);
  assert.equal(status(() => assertStorable(deep(MAX_DEPTH + 1))), 422);
  assert.equal(status(() => assertStorable(deep(100_000))), 422);
});

Deno.test("canonical JSON sorts keys at every level", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
  );
});
