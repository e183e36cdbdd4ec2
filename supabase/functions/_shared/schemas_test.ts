// Every vendor sample in shared/samples/webhooks matches its schema, and the schemas refuse
// what the worker could not use, with a reason a sender can act on.
import assert from "node:assert/strict";
import { HttpError } from "./http.ts";
import { assertMatches, type SchemaName } from "./schemas.ts";
import { sample } from "../_testing/fixtures.ts";

const SAMPLES = new URL("../../../shared/samples/webhooks/", import.meta.url);

for (const vendor of Deno.readDirSync(SAMPLES)) {
  if (!vendor.isDirectory) continue;
  for (const file of Deno.readDirSync(new URL(`${vendor.name}/`, SAMPLES))) {
    if (!file.name.endsWith(".json")) continue;
    Deno.test(`the ${vendor.name} sample ${file.name} matches its schema`, () => {
      assertMatches(vendor.name as SchemaName, sample(vendor.name, file.name.replace(/\.json$/, "")));
    });
  }
}

function reason(name: SchemaName, value: unknown): string {
  try {
    assertMatches(name, value);
  } catch (error) {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 422);
    return error.message;
  }
  throw new Error("expected a schema violation");
}

Deno.test("schema violations name the field", () => {
  const generic = sample("generic", "reservation-created") as { data: Record<string, unknown> };
  generic.data.status = "maybe";
  assert.match(reason("generic", generic), /\/data\/status must be equal to one of the allowed values/);

  const mews = sample("mews", "general-webhook") as { Events: Record<string, unknown>[] };
  delete mews.Events[1].Value;
  assert.match(reason("mews", mews), /\/Events\/1 must have required property 'Value'/);

  const apaleo = sample("apaleo", "reservation-created");
  delete apaleo.data;
  assert.match(reason("apaleo", apaleo), /must have required property 'data'/);

  const ack = sample("waha", "message-ack") as { payload: Record<string, unknown> };
  ack.payload.ack = 7;
  assert.match(reason("waha", ack), /\/payload\/ack must be equal to one of the allowed values/);

  assert.match(reason("cloudbeds", { event: "reservation/created", timestamp: 1 }), /reservationI[Dd]/);
  assert.match(reason("guesty", { event: "reservation.created.v2" }), /'reservation'/);
  assert.match(reason("generic", []), /\(body\) must be object/);
});

Deno.test("a generic payload must carry a generic canonical reservation", () => {
  const generic = sample("generic", "reservation-created") as { data: Record<string, unknown> };
  generic.data.provider = "apaleo";
  assert.match(reason("generic", generic), /\/data\/provider must be equal to constant/);
  const extra = sample("generic", "reservation-created") as { data: Record<string, unknown> };
  extra.data.unexpected = true;
  assert.match(reason("generic", extra), /must NOT have additional properties/);
});
