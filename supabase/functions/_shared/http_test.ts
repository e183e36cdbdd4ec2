import assert from "node:assert/strict";
import { HttpError, MAX_BODY_BYTES, readBody, requestIdOf, requireJsonBody, segmentsAfter } from "./http.ts";

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** A body of `total` bytes served in 16 KiB chunks, counting how many were pulled. */
function countingStream(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = new Uint8Array(Math.min(16 * 1024, total - sent)).fill(0x20);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 }); // nothing is pulled until someone reads
  return { stream, pulled: () => sent };
}

Deno.test("a declared Content-Length over the cap is 413 before anything is read", async () => {
  const { stream, pulled } = countingStream(10 * MAX_BODY_BYTES);
  const req = new Request("http://x/", {
    method: "POST",
    body: stream,
    headers: { "content-length": String(10 * MAX_BODY_BYTES) },
  });
  assert.equal((await rejection(readBody(req))).status, 413);
  assert.equal(pulled(), 0);
});

Deno.test("a chunked body is cut off just past the cap", async () => {
  const { stream, pulled } = countingStream(100 * MAX_BODY_BYTES);
  const req = new Request("http://x/", { method: "POST", body: stream });
  assert.equal((await rejection(readBody(req))).status, 413);
  assert.ok(pulled() <= MAX_BODY_BYTES + 2 * 16 * 1024, `pulled ${pulled()} bytes`);
});

Deno.test("a body of exactly the cap is read whole", async () => {
  const { stream } = countingStream(MAX_BODY_BYTES);
  const body = await readBody(new Request("http://x/", { method: "POST", body: stream }));
  assert.equal(body.byteLength, MAX_BODY_BYTES);
});

Deno.test("JSON media types are accepted, others and compressed bodies are 415", () => {
  const req = (headers: Record<string, string>) => new Request("http://x/", { method: "POST", headers, body: "{}" });
  requireJsonBody(req({ "content-type": "application/json" }));
  requireJsonBody(req({ "content-type": "Application/JSON; charset=utf-8" }));
  requireJsonBody(req({ "content-type": "application/vnd.api+json" }));
  const refused: Record<string, string>[] = [
    { "content-type": "text/plain" },
    { "content-type": "application/x-www-form-urlencoded" },
    {},
    { "content-type": "application/json", "content-encoding": "gzip" },
  ];
  for (const headers of refused) {
    assert.throws(() => requireJsonBody(req(headers)), (e) => e instanceof HttpError && e.status === 415);
  }
});

Deno.test("request ids: a sane x-request-id is kept, anything else is replaced", () => {
  const req = (id?: string) => new Request("http://x/", { headers: id === undefined ? {} : { "x-request-id": id } });
  assert.equal(requestIdOf(req("abc-123_DEF:9")), "abc-123_DEF:9");
  for (const bad of [undefined, "", "has space", "x".repeat(129), "tab\there"]) {
    assert.match(requestIdOf(req(bad)), /^[0-9a-f-]{36}$/);
  }
});

Deno.test("paths are read after the function name, with or without /functions/v1", () => {
  assert.deepEqual(segmentsAfter("/pms-webhook/apaleo/key", "pms-webhook"), ["apaleo", "key"]);
  assert.deepEqual(segmentsAfter("/functions/v1/pms-webhook/apaleo/key/", "pms-webhook"), ["apaleo", "key"]);
  assert.throws(() => segmentsAfter("/other/x", "pms-webhook"), (e) => e instanceof HttpError && e.status === 404);
});
