import { describe, expect, it } from "vitest";
import { languages } from "../lib/i18n";
import { stringsFor } from "../lib/locales";

function keys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

const en = stringsFor("en");

describe("translations", () => {
  it("has the app's and the features' English strings", () => {
    expect(keys(en)).toContain("nav.today");
    expect(keys(en).length).toBeGreaterThan(50);
  });

  it.each(Object.keys(languages).filter((l) => l !== "en"))("%s has every English string, and no others", (l) => {
    expect(keys(stringsFor(l)).sort()).toEqual(keys(en).sort());
  });

  it("has no empty strings", () => {
    const strings = Object.keys(languages).flatMap((l) => JSON.stringify(stringsFor(l)).match(/"[^"]*":""/g) ?? []);
    expect(strings).toEqual([]);
  });
});
