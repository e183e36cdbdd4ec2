import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderUi } from "../../../test/render";
import { SignInForm } from "./sign-in-form";

describe("SignInForm", () => {
  it("says the session ended when a refresh was refused", () => {
    renderUi(<SignInForm reason="session_ended" />);
    expect(screen.getByRole("alert")).toHaveTextContent(
      "Your session ended and could not be renewed. Please sign in again.",
    );
    expect(screen.getByLabelText("E-mail", { exact: false })).toBeRequired();
  });

  it("confirms a sign-out the user asked for", () => {
    renderUi(<SignInForm reason="signed_out" />);
    expect(screen.getByRole("status")).toHaveTextContent("You are signed out.");
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
