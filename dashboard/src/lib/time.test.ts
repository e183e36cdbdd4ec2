import { describe, expect, it } from "vitest";
import { formatDateTime, localDate } from "./time";

describe("localDate", () => {
  it("is the hotel's calendar date, not the browser's", () => {
    const instant = new Date("2027-03-27T23:30:00Z");
    expect(localDate(instant, "Europe/Berlin")).toBe("2027-03-28");
    expect(localDate(instant, "America/New_York")).toBe("2027-03-27");
    expect(localDate(instant, "Asia/Tokyo")).toBe("2027-03-28");
  });
});

describe("formatDateTime", () => {
  it("shows the time in the property's timezone, across a DST change", () => {
    expect(formatDateTime("2027-03-27T09:00:00Z", "Europe/Berlin", "en-GB")).toContain("10:00");
    expect(formatDateTime("2027-03-28T08:00:00Z", "Europe/Berlin", "en-GB")).toContain("10:00");
  });

  it("is empty for a missing time", () => {
    expect(formatDateTime(null, "UTC", "en")).toBe("");
  });
});
