import { describe, expect, it } from "vitest";
import i18n from "../../../lib/i18n";
import { explainEventError, syncErrorWords } from "./event-error";
import { webhookUrl, webhookUrlWithSecret } from "./webhook-url";

describe("webhookUrl", () => {
  it("is the pms-webhook function's address for the provider and the hotel's key", () => {
    expect(webhookUrl("https://abc.supabase.co/", "mews", "key_123-ABCdefGHIjkl")).toBe(
      "https://abc.supabase.co/functions/v1/pms-webhook/mews/key_123-ABCdefGHIjkl",
    );
  });

  it("carries a token as ?token= and basic auth before the host, never a signing secret", () => {
    const url = "https://abc.supabase.co/functions/v1/pms-webhook/apaleo/k";
    expect(webhookUrlWithSecret(url, "token", "a/b+c")).toBe(`${url}?token=a%2Fb%2Bc`);
    expect(webhookUrlWithSecret(url, "basic", "pms:3f9a")).toBe(
      "https://pms:3f9a@abc.supabase.co/functions/v1/pms-webhook/apaleo/k",
    );
    expect(webhookUrlWithSecret(url, "standard_webhooks", "whsec_abc")).toBeNull();
  });
});

describe("explainEventError", () => {
  const words = (error: string | null) => {
    const e = explainEventError(error);
    return i18n.getFixedT("en")(e.key, e.values);
  };

  it("says what to do about an unknown property, without the database's text", () => {
    const text = words(
      "rejected by the database: unknown property PROP-2 for tenant 11111111-1111-1111-1111-111111111111",
    );
    expect(text).toBe(
      'The reservation is for property "PROP-2", which this hotel does not have. Add the property (or fix its PMS id), then replay.',
    );
    expect(text).not.toContain("11111111");
  });

  it("names the payload problem and the missing connection", () => {
    expect(words("PayloadError: reservation.cancelled carries status 'confirmed'")).toContain(
      "The PMS sent data that cannot be read: reservation.cancelled carries status 'confirmed'.",
    );
    expect(words("ConfigurationError: tenant has no mews PMS configuration")).toBe(
      "This hotel has no mews connection. Add it, then replay.",
    );
  });

  it("never shows other database refusals or unknown errors as they came", () => {
    expect(words('rejected by the database: new row violates check constraint "x"')).not.toContain("constraint");
    expect(words("KeyError: 'id'")).not.toContain("KeyError");
    expect(words("lease of w-1 expired (attempt 10 of 10)")).toBe("Processing took too long and was stopped.");
  });
});

describe("syncErrorWords", () => {
  const t = i18n.getFixedT("en");
  it("shows the worker's words, but not its unexpected failures", () => {
    expect(syncErrorWords(t, "the PMS rejected the API key (401)")).toBe("the PMS rejected the API key (401)");
    expect(syncErrorWords(t, "internal error: KeyError: 'data'")).toBe(
      "An unexpected error stopped it. Try again; if it keeps happening, tell your administrator.",
    );
  });
});
