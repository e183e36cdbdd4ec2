import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { UserFacingError } from "../../../lib/errors";
import { renderUi } from "../../../test/render";
import { NewPasswordForm } from "./new-password-form";

describe("NewPasswordForm", () => {
  it("asks again when the two passwords differ, and submits them when they match", async () => {
    const onSubmit = vi.fn();
    renderUi(<NewPasswordForm submitLabel="Save" pending={false} error={null} onSubmit={onSubmit} />);
    const [first, second] = [screen.getByLabelText(/^New password/), screen.getByLabelText(/^Repeat/)];
    // Pasted, not typed key by key: fast enough on a loaded machine.
    await userEvent.click(first);
    await userEvent.paste("a-long-passphrase");
    await userEvent.click(second);
    await userEvent.paste("a-long-passphrasf");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByRole("alert")).toHaveTextContent("The two passwords are not the same.");
    expect(onSubmit).not.toHaveBeenCalled();

    await userEvent.clear(second);
    await userEvent.paste("a-long-passphrase");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith("a-long-passphrase");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says what the server refused in words", () => {
    renderUi(
      <NewPasswordForm
        submitLabel="Save"
        pending={false}
        error={new UserFacingError("auth.weakPassword")}
        onSubmit={vi.fn()}
      />,
    );
    expect(screen.getByRole("alert")).toHaveTextContent("This password is too short or too simple.");
  });
});
