// What waha-session passes on of WAHA's `me`: the linked phone's digits, nothing else.
import assert from "node:assert/strict";
import { phoneOf } from "./waha.ts";

Deno.test("the linked phone's number comes from me.id and nothing else", () => {
  assert.equal(phoneOf({ id: "4930123456789@c.us", pushName: "<script>" }), "+4930123456789");
  for (const me of [null, undefined, "4930123456789@c.us", [], {}, { id: 4930123456789 }]) {
    assert.equal(phoneOf(me), null);
  }
  // Groups, LIDs, leading zeros, too short or too long, or anything after the id: not a number.
  for (
    const id of [
      "4930123456789@g.us",
      "123@lid",
      "04930123456@c.us",
      "12345@c.us",
      "1234567890123456@c.us",
      "4930123456789@c.us\nx",
      "+4930123456789@c.us",
    ]
  ) {
    assert.equal(phoneOf({ id }), null, id);
  }
});
