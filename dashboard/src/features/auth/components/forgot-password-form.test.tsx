import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { supabase } from "../../../lib/supabase";
import { renderUi } from "../../../test/render";
import { ForgotPasswordForm } from "./forgot-password-form";

afterEach(() => vi.restoreAllMocks());

async function ask(email: string) {
  renderUi(<ForgotPasswordForm />);
  await userEvent.click(screen.getByLabelText("E-mail", { exact: false }));
  await userEvent.paste(email);
  await userEvent.click(screen.getByRole("button", { name: "Send the link" }));
}

describe("ForgotPasswordForm", () => {
  it("asks Auth for a link back to this app and answers without telling whether the account exists", async () => {
    const reset = vi.spyOn(supabase.auth, "resetPasswordForEmail").mockResolvedValue({ data: {}, error: null });
    await ask("someone@hotel.test");
    await waitFor(() =>
      expect(screen.getByRole("status")).toHaveTextContent("If someone@hotel.test has an account, a link"),
    );
    expect(reset).toHaveBeenCalledWith("someone@hotel.test", {
      redirectTo: `${window.location.origin}/reset-password`,
    });
  });

  it("gives the same answer when the address was sent a link a moment ago", async () => {
    const limited = Object.assign(new Error("wait"), { code: "over_email_send_rate_limit", status: 429 });
    vi.spyOn(supabase.auth, "resetPasswordForEmail").mockResolvedValue({ data: null, error: limited } as never);
    await ask("someone@hotel.test");
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("If someone@hotel.test has an account"));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says to wait when this browser asked too often", async () => {
    const limited = Object.assign(new Error("slow down"), { code: "over_request_rate_limit", status: 429 });
    vi.spyOn(supabase.auth, "resetPasswordForEmail").mockResolvedValue({ data: null, error: limited } as never);
    await ask("someone@hotel.test");
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("Wait a minute, then try again."));
  });
});
