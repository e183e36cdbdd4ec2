import { describe, expect, it } from "vitest";
import { bucketLabel, isPeriod, windowOf } from "./period";

describe("metrics periods", () => {
  it("asks for the period back from now, in points of an hour, six hours or a day", () => {
    const now = new Date("2027-03-28T12:00:00Z");
    expect(windowOf("24h", now)).toEqual({
      since: "2027-03-27T12:00:00.000Z",
      until: "2027-03-28T12:00:00.000Z",
      step: "1 hour",
    });
    expect(windowOf("7d", now).step).toBe("6 hours");
    expect(windowOf("30d", now).since).toBe("2027-02-26T12:00:00.000Z");
    expect(isPeriod("7d")).toBe(true);
    expect(isPeriod("toString")).toBe(false);
    expect(isPeriod(null)).toBe(false);
  });

  it("labels points on the property's clock", () => {
    const at = "2027-03-28T22:30:00Z";
    expect(bucketLabel(at, "24h", "Asia/Kolkata", "en-GB")).toBe("04:00");
    expect(bucketLabel(at, "30d", "Asia/Kolkata", "en-GB")).toBe("29 Mar");
    expect(bucketLabel(at, "30d", "America/New_York", "en-GB")).toBe("28 Mar");
  });
});
