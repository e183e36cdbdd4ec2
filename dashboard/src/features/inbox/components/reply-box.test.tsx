import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { supabase } from "../../../lib/supabase";
import { renderUi } from "../../../test/render";
import { ReplyBox } from "./reply-box";

type RpcResult = Awaited<ReturnType<typeof supabase.rpc>>;
const answer = (error: object | null) => ({ data: error ? null : [{}], error }) as unknown as RpcResult;

afterEach(() => vi.restoreAllMocks());

vi.setConfig({ testTimeout: 15_000 });

function box() {
  renderUi(
    <ReplyBox tenantId="t" conversationId="c1" suggestedLanguage="de" detectedLanguage="de" canReply />,
  );
}

describe("ReplyBox", () => {
  it("asks for a reason before replying to a guest who opted out, then sends with it", async () => {
    const rpc = vi
      .spyOn(supabase, "rpc")
      .mockResolvedValueOnce(answer({ code: "PT409", hint: "confirm_opt_out", message: "guest opted out" }))
      .mockResolvedValueOnce(answer(null));
    box();
    await userEvent.click(screen.getByLabelText("Message to the guest"));
    await userEvent.paste("Your invoice is attached");
    await userEvent.click(screen.getByRole("button", { name: "Send reply" }));

    const dialog = await screen.findByRole("dialog", { name: "The guest opted out of WhatsApp messages" });
    expect(dialog).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Send anyway" }));
    expect(await screen.findByText("Give a reason to send it.")).toBeInTheDocument();
    expect(rpc).toHaveBeenCalledTimes(1);

    await userEvent.click(screen.getByLabelText(/Why send it anyway/));
    await userEvent.paste("Guest asked for the invoice by phone");
    await userEvent.click(screen.getByRole("button", { name: "Send anyway" }));
    await waitFor(() => expect(screen.getByTestId("reply-notice")).toHaveTextContent("Queued"));
    expect(rpc).toHaveBeenLastCalledWith("send_reply", {
      p_conversation_id: "c1",
      p_body: "Your invoice is attached",
      p_confirm_opted_out: true,
      p_reason: "Guest asked for the invoice by phone",
    });
  });

  it("says why a reply is refused when the guest wrote STOP again", async () => {
    vi.spyOn(supabase, "rpc").mockResolvedValueOnce(answer({ code: "PT409", hint: "stopped_again", message: "x" }));
    box();
    await userEvent.click(screen.getByLabelText("Message to the guest"));
    await userEvent.paste("Hello?");
    await userEvent.click(screen.getByRole("button", { name: "Send reply" }));
    await waitFor(() => expect(screen.getByTestId("reply-notice")).toHaveTextContent("wrote STOP again"));
  });

  it("adds an internal note, never a message to the guest", async () => {
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValueOnce(answer(null));
    box();
    await userEvent.click(screen.getByText("Internal note"));
    await userEvent.click(screen.getByLabelText("Note for the team"));
    await userEvent.paste("Call back after 3pm");
    await userEvent.click(screen.getByRole("button", { name: "Add note" }));
    await waitFor(() => expect(screen.getByTestId("reply-notice")).toHaveTextContent("Note added."));
    expect(rpc).toHaveBeenCalledWith("add_conversation_note", { p_conversation_id: "c1", p_body: "Call back after 3pm" });
  });
});
