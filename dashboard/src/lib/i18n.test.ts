import { describe, expect, it } from "vitest";
import i18n from "./i18n";

describe("i18n", () => {
  it("switches the interface and the page's language together, and remembers the choice", async () => {
    await i18n.changeLanguage("de");
    expect(i18n.t("nav.reservations")).toBe("Reservierungen");
    expect(document.documentElement.lang).toBe("de");
    expect(localStorage.getItem("language")).toBe("de");
    await i18n.changeLanguage("en");
    expect(i18n.t("nav.reservations")).toBe("Reservations");
    expect(document.documentElement.lang).toBe("en");
  });
});
