import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { supabase } from "../../../lib/supabase";
import { renderUi, testQueryClient } from "../../../test/render";
import { messagesNeedingActionQueryOptions, type ActionMessage } from "../api/get-messages-needing-action";
import { MessagesNeedingAction } from "./messages-needing-action";

const TENANT = "11111111-1111-1111-1111-111111111111";
const rows: ActionMessage[] = [
  {
    id: 8,
    reservationId: null,
    templateKey: "checkout",
    status: "failed",
    lastError: "timeout",
    updatedAt: "2027-03-28T09:00:00Z",
    guestName: "Otto Out",
  },
  {
    id: 7,
    reservationId: "22222222-2222-2222-2222-222222222222",
    templateKey: "welcome",
    status: "dead",
    lastError: "WAHA answered 500",
    updatedAt: "2027-03-28T08:00:00Z",
    guestName: "Grace Hopper",
  },
];

function seeded() {
  const client = testQueryClient();
  client.setQueryData(messagesNeedingActionQueryOptions(TENANT, ["failed", "dead"]).queryKey, rows);
  return client;
}

afterEach(() => vi.restoreAllMocks());

describe("MessagesNeedingAction", () => {
  it("opens filtered as the link from Today asked (?status=dead)", () => {
    const client = testQueryClient();
    client.setQueryData(
      messagesNeedingActionQueryOptions(TENANT, ["dead"]).queryKey,
      rows.filter((r) => r.status === "dead"),
    );
    renderUi(<MessagesNeedingAction tenantId={TENANT} timeZone="Europe/Berlin" canResend={false} />, client, "/?status=dead");
    expect(screen.getByLabelText("Status")).toHaveValue("dead");
    expect(screen.getByText("WAHA answered 500")).toBeInTheDocument();
    expect(screen.queryByText("timeout")).toBeNull();
  });

  it("shows front desk what failed, without resend buttons", () => {
    renderUi(<MessagesNeedingAction tenantId={TENANT} timeZone="Europe/Berlin" canResend={false} />, seeded());
    expect(screen.getByText("WAHA answered 500")).toBeInTheDocument();
    expect(screen.getByText(/Mar 28, 2027.*10:00/)).toBeInTheDocument(); // 08:00Z in Berlin
    expect(screen.queryByRole("button", { name: /Resend/ })).toBeNull();
    expect(screen.queryByRole("checkbox")).toBeNull();
  });

  it("says why a message cannot be resent, in words", async () => {
    // The API's refusal, as PostgREST returns resend_message's check_violation.
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue({
      data: null,
      error: { code: "23514", details: "guest_opted_out", message: "message 7 cannot be sent", hint: null },
      count: null,
      status: 400,
      statusText: "Bad Request",
    } as never);
    renderUi(<MessagesNeedingAction tenantId={TENANT} timeZone="Europe/Berlin" canResend />, seeded());
    await userEvent.click(screen.getByRole("button", { name: "Resend: welcome (Grace Hopper)" }));
    expect(await screen.findByTestId("resend-notice")).toHaveTextContent(
      "welcome (Grace Hopper): This message cannot be sent again: the guest opted out of WhatsApp messages.",
    );
    expect(rpc).toHaveBeenCalledWith("resend_message", { p_message_id: 7 });
  });

  it("resends a selection at once and reports what was refused, and why", async () => {
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue({
      data: { taken: 1, refused: { guest_opted_out: 1 } },
      error: null,
      count: null,
      status: 200,
      statusText: "OK",
    } as never);
    renderUi(<MessagesNeedingAction tenantId={TENANT} timeZone="Europe/Berlin" canResend />, seeded());
    const button = screen.getByRole("button", { name: "Resend selected (0)" });
    expect(button).toBeDisabled();
    await userEvent.click(screen.getByRole("checkbox", { name: "Select all" }));
    await userEvent.click(screen.getByRole("button", { name: "Resend selected (2)" }));
    const result = await screen.findByText("1 queued to be sent again.");
    expect(result.parentElement).toHaveTextContent("1 not sent: the guest opted out of WhatsApp messages");
    expect(rpc).toHaveBeenCalledWith("resend_messages", { p_tenant_id: TENANT, p_ids: [8, 7] });
  });
});
