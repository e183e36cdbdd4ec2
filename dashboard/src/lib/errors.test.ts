import { describe, expect, it } from "vitest";
import { toUserError } from "./errors";

describe("toUserError", () => {
  it("gives one answer for 'not found' and 'not allowed'", () => {
    expect(toUserError({ code: "P0002", message: "message 7 not found or not accessible" }).key).toBe("errors.notAllowed");
    expect(toUserError({ code: "42501", message: "permission denied for table x" }).key).toBe("errors.notAllowed");
  });

  it("never passes a raw SQL message through, except for input the user can fix", () => {
    const raw = toUserError({ code: "XX000", message: "relation private.x does not exist" });
    expect(raw.key).toBe("errors.unknown");
    expect(raw.detail).toBeUndefined();
    expect(toUserError({ code: "22023", message: "search for 2 to 200 characters" }).detail).toBe(
      "search for 2 to 200 characters",
    );
  });

  it("asks to sign in again when the token is refused", () => {
    expect(toUserError({ code: "PGRST303" }).key).toBe("errors.session");
  });
});
