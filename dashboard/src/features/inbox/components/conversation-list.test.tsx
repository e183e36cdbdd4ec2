import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderUi, testQueryClient } from "../../../test/render";
import { inboxKeys } from "../api/keys";
import type { InboxFilters } from "../api/list-conversations";
import type { ConversationSummary } from "../api/types";
import { ConversationList } from "./conversation-list";

const filters: InboxFilters = { status: "open", assignee: "all", search: "", propertyId: "" };
const base: ConversationSummary = {
  id: "c1",
  property_id: "p1",
  waha_session: "s",
  chat_id: "4915111110001@c.us",
  phone_e164: "+4915111110001",
  guest_id: "g1",
  guest_name: "Grace Hopper",
  contact_name: "Grace",
  status: "open",
  assignee_id: null,
  last_message_at: "2027-03-28T08:10:00Z",
  last_message_preview: "Can I check in early?",
  detected_language: "en",
  guest_language: "en",
  guest_opted_out: false,
  unread_count: 2,
};

function list(rows: ConversationSummary[], properties = [{ id: "p1", name: "Spree" }]) {
  const client = testQueryClient();
  client.setQueryData(inboxKeys.list("t", filters), rows);
  renderUi(
    <ConversationList
      tenantId="t"
      userId="me"
      selectedId="c2"
      timeZone="Europe/Berlin"
      filters={filters}
      onFilters={() => {}}
      properties={properties}
    />,
    client,
  );
}

describe("ConversationList", () => {
  it("shows each conversation with its unread marker, unknown numbers and opt-outs", () => {
    list([
      base,
      {
        ...base,
        id: "c2",
        guest_id: null,
        guest_name: null,
        contact_name: null,
        phone_e164: "+4917699887766",
        unread_count: 0,
        guest_opted_out: false,
        assignee_id: "me",
        last_message_preview: "A room for Friday?",
      },
      { ...base, id: "c3", guest_name: "Otto Out", guest_opted_out: true, unread_count: 0 },
    ]);
    const grace = screen.getByRole("link", { name: /Grace Hopper/ });
    expect(grace).toHaveTextContent("2 unread");
    expect(grace).toHaveTextContent("Can I check in early?");
    expect(grace).toHaveTextContent("10:10"); // in the hotel's timezone
    const unknown = screen.getByRole("link", { name: /\+4917699887766/ });
    expect(unknown).toHaveAttribute("aria-current", "page");
    expect(within(unknown).getByText("Unknown number")).toBeInTheDocument();
    expect(within(unknown).getByText("Assigned to you")).toBeInTheDocument();
    expect(within(unknown).queryByText(/unread/)).toBeNull();
    expect(within(screen.getByRole("link", { name: /Otto Out/ })).getByText("Opted out")).toBeInTheDocument();
    // One property: no property filter.
    expect(screen.queryByLabelText("Property")).toBeNull();
  });

  it("offers a property filter when the hotel has several", () => {
    list([], [
      { id: "p1", name: "Spree" },
      { id: "p2", name: "Alster" },
    ]);
    expect(screen.getByLabelText("Property")).toBeInTheDocument();
    expect(screen.getByText("No conversations here.")).toBeInTheDocument();
  });
});
