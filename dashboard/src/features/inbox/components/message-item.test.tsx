import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderUi } from "../../../test/render";
import type { ThreadMessage } from "../api/types";
import { MessageItem, NoteItem } from "./message-item";

vi.mock("../api/media", () => ({
  fetchMedia: vi.fn(async () => new Blob(["%PDF"], { type: "application/pdf" })),
}));

const base: ThreadMessage = {
  id: 1,
  direction: "inbound",
  sender: "guest",
  sent_by: null,
  delivery_status: null,
  last_error: null,
  body: "Can I check in early?",
  media_kind: null,
  media_mimetype: null,
  media_filename: null,
  media_size: null,
  has_media_file: false,
  location_latitude: null,
  location_longitude: null,
  location_name: null,
  language: "en",
  consent_change: null,
  opt_out_override_reason: null,
  sent_at: "2027-03-28T08:10:00Z",
};

const list = (ui: React.ReactElement) => renderUi(<ol>{ui}</ol>);

describe("MessageItem", () => {
  it("shows a guest's message with its time in the hotel's timezone", () => {
    list(<MessageItem tenantId="t" userId="me" timeZone="Europe/Berlin" message={base} />);
    const item = screen.getByTestId("thread-message-1");
    expect(item).toHaveTextContent("Guest");
    expect(item).toHaveTextContent("Can I check in early?");
    expect(item).toHaveTextContent("10:10"); // 08:10Z in Berlin (summer time)
    expect(within(item).queryByRole("img")).toBeNull();
  });

  it("shows our replies with their ticks, and who sent them", () => {
    list(
      <>
        <MessageItem
          tenantId="t"
          userId="me"
          timeZone="UTC"
          message={{ ...base, id: 2, direction: "outbound", sender: "staff", sent_by: "me", delivery_status: "read" }}
        />
        <MessageItem
          tenantId="t"
          userId="me"
          timeZone="UTC"
          message={{ ...base, id: 3, direction: "outbound", sender: "phone", delivery_status: null }}
        />
        <MessageItem
          tenantId="t"
          userId="me"
          timeZone="UTC"
          message={{ ...base, id: 4, direction: "outbound", sender: "automation", delivery_status: "sent" }}
        />
      </>,
    );
    const mine = screen.getByTestId("thread-message-2");
    expect(mine).toHaveTextContent("You");
    expect(within(mine).getByRole("img", { name: "Read" })).toHaveTextContent("✓✓");
    expect(screen.getByTestId("thread-message-3")).toHaveTextContent("Sent from the hotel's phone");
    const automated = screen.getByTestId("thread-message-4");
    expect(automated).toHaveTextContent("Automated message");
    expect(within(automated).getByRole("img", { name: "Sent" })).toHaveTextContent("✓");
  });

  it("marks a STOP as the guest opting out", () => {
    list(
      <MessageItem tenantId="t" userId="me" timeZone="UTC" message={{ ...base, body: "STOP", consent_change: "opted_out" }} />,
    );
    expect(screen.getByText(/The guest opted out/)).toBeInTheDocument();
  });

  it("shows a location with its coordinates and a map link, fetching nothing", () => {
    list(
      <MessageItem
        tenantId="t"
        userId="me"
        timeZone="UTC"
        message={{
          ...base,
          body: null,
          media_kind: "location",
          location_latitude: 52.52,
          location_longitude: 13.405,
          location_name: "Alexanderplatz",
        }}
      />,
    );
    expect(screen.getByText("Alexanderplatz")).toBeInTheDocument();
    expect(screen.getByText("Latitude 52.52000, longitude 13.40500")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /Open in a map/ })).toHaveAttribute(
      "href",
      expect.stringContaining("mlat=52.52&mlon=13.405"),
    );
  });

  it("fetches a document only when it is opened, and names it with its size", async () => {
    const { fetchMedia } = await import("../api/media");
    URL.createObjectURL = vi.fn(() => "blob:doc");
    URL.revokeObjectURL = vi.fn();
    list(
      <MessageItem
        tenantId="t"
        userId="me"
        timeZone="UTC"
        message={{
          ...base,
          id: 9,
          body: "my invoice",
          media_kind: "document",
          media_filename: "invoice.pdf",
          media_size: 2048,
          has_media_file: true,
        }}
      />,
    );
    expect(screen.getByText(/invoice\.pdf · 2 kB/)).toBeInTheDocument();
    expect(fetchMedia).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Open document invoice.pdf" }));
    await waitFor(() => expect(screen.getByRole("link", { name: "Save invoice.pdf" })).toHaveAttribute("href", "blob:doc"));
    expect(fetchMedia).toHaveBeenCalledWith("t", 9);
  });
});

describe("NoteItem", () => {
  it("says only staff see it", () => {
    list(
      <NoteItem
        timeZone="UTC"
        userId="me"
        note={{ id: 1, author_id: "me", body: "Guest is a regular", created_at: "2027-03-28T08:00:00Z" }}
      />,
    );
    const note = screen.getByTestId("thread-note-1");
    expect(note).toHaveTextContent("Internal note · You");
    expect(note).toHaveTextContent("Only staff see this");
    expect(note).toHaveTextContent("Guest is a regular");
  });
});
