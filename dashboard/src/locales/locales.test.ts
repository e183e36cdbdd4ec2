import { describe, expect, it } from "vitest";
import de from "./de.json";
import en from "./en.json";

function keys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe("translations", () => {
  it("German has every English string, and no others", () => {
    expect(keys(de).sort()).toEqual(keys(en).sort());
  });

  it("has no empty strings", () => {
    const strings = [en, de].flatMap((l) => JSON.stringify(l).match(/"[^"]*":""/g) ?? []);
    expect(strings).toEqual([]);
  });
});
