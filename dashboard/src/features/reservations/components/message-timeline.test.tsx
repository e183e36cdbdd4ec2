import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderUi } from "../../../test/render";
import type { TimelineEntry } from "../api/search-reservations";
import { MessageTimeline } from "./message-timeline";

const base: TimelineEntry = {
  id: 1,
  template_key: "welcome",
  status: "scheduled",
  scheduled_for: "2027-03-28T08:00:00Z",
  sent_at: null,
  delivered_at: null,
  read_at: null,
  last_error: null,
  updated_at: "2027-03-28T08:00:00Z",
};

describe("MessageTimeline", () => {
  it("shows each message's status, its ticks and times in the hotel's timezone", () => {
    renderUi(
      <MessageTimeline
        timeZone="Europe/Berlin"
        entries={[
          { ...base, id: 1, status: "read", sent_at: "2027-03-28T08:00:05Z", read_at: "2027-03-28T08:10:00Z" },
          { ...base, id: 2, template_key: "checkout", status: "dead", last_error: "WAHA answered 500" },
        ]}
      />,
    );
    const read = screen.getByTestId("message-1");
    expect(within(read).getByText("Read")).toBeInTheDocument();
    expect(within(read).getByRole("img", { name: "Read" })).toHaveTextContent("✓✓");
    expect(read).toHaveTextContent("10:10"); // 08:10Z in Berlin (summer time)
    const dead = screen.getByTestId("message-2");
    expect(within(dead).getByText("Dead")).toBeInTheDocument();
    expect(dead).toHaveTextContent("WAHA answered 500");
    expect(within(dead).queryByRole("img")).toBeNull();
  });

  it("says when there are no messages", () => {
    renderUi(<MessageTimeline timeZone="UTC" entries={[]} />);
    expect(screen.getByText("No messages for this reservation.")).toBeInTheDocument();
  });
});
