import { describe, expect, it } from "vitest";
import { pacingError, pacingProblem } from "./pacing";

describe("pacing", () => {
  it("follows the database's rules", () => {
    expect(pacingProblem(1000, 3000)).toBeNull();
    expect(pacingProblem(0, 0)).toBeNull();
    expect(pacingProblem(600_000, 600_000)).toBeNull();
    expect(pacingProblem(null, 3000)).toBe("pacing_missing");
    expect(pacingProblem(Number.NaN, 3000)).toBe("pacing_missing");
    expect(pacingProblem(-1, 3000)).toBe("pacing_negative");
    expect(pacingProblem(3000, 1000)).toBe("pacing_max_below_min");
    expect(pacingProblem(1000, 600_001)).toBe("pacing_too_long");
  });

  it("turns the database's refusal into the words for it, and anything else into the app's", () => {
    expect(pacingError({ code: "22023", details: "pacing_max_below_min", message: "x" }).key).toBe(
      "whatsapp.pacing.pacing_max_below_min",
    );
    expect(pacingError({ code: "PT404", message: "tenant not found or not accessible" }).key).toBe("errors.unknown");
  });
});
