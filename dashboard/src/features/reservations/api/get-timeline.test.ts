import { describe, expect, it } from "vitest";
import { isMoving } from "./get-timeline";
import type { TimelineEntry } from "./search-reservations";

const entry = (status: string, updated_at: string): TimelineEntry => ({
  id: 1,
  template_key: "k",
  status,
  scheduled_for: updated_at,
  sent_at: null,
  delivered_at: null,
  read_at: null,
  last_error: null,
  updated_at,
});

describe("isMoving", () => {
  const now = Date.parse("2027-01-01T12:00:00Z");
  it("keeps asking while a recent message is on its way or awaiting ticks", () => {
    expect(isMoving([entry("queued", "2027-01-01T11:59:00Z")], now)).toBe(true);
    expect(isMoving([entry("sent", "2027-01-01T11:55:00Z")], now)).toBe(true);
  });
  it("stops once messages settle or go quiet", () => {
    expect(isMoving([entry("read", "2027-01-01T11:59:00Z"), entry("dead", "2027-01-01T11:59:00Z")], now)).toBe(false);
    expect(isMoving([entry("sent", "2027-01-01T10:00:00Z")], now)).toBe(false);
  });
});
