import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderUi, testQueryClient } from "../../../test/render";
import { inboxKeys } from "../api/keys";
import type { Conversation, GuestReservation } from "../api/types";
import { GuestPanel } from "./guest-panel";

const conversation: Conversation = {
  id: "c1",
  tenant_id: "t",
  property_id: "p1",
  chat_id: "4915111110001@c.us",
  phone_e164: "+4915111110001",
  guest_id: "g1",
  contact_name: "Grace",
  status: "open",
  assignee_id: null,
  detected_language: "de",
  guests: {
    full_name: "Grace Hopper",
    phone_e164: "+4915111110001",
    language: "en",
    whatsapp_opt_in: false,
    opted_out_at: "2027-03-28T08:00:00Z",
    opt_out_reason: "STOP",
  },
  properties: { name: "Spree", timezone: "Europe/Berlin" },
};

const stay = (id: string, timing: GuestReservation["timing"]): GuestReservation => ({
  reservation_id: id,
  property_id: "p1",
  property_name: "Spree",
  pms_reservation_id: `BK-${id}`,
  arrival_date: "2027-03-27",
  departure_date: "2027-03-29",
  status: "confirmed",
  timing,
});

describe("GuestPanel", () => {
  it("shows consent, the language the guest writes in, and their stays linked", () => {
    const client = testQueryClient();
    client.setQueryData([...inboxKeys.reservations("t", "c1"), "g1"], [stay("1", "current"), stay("2", "past")]);
    renderUi(<GuestPanel conversation={conversation} timeZone="Europe/Berlin" />, client);
    expect(screen.getByText("Opted out")).toBeInTheDocument();
    expect(screen.getByText("Writes in: German")).toBeInTheDocument();
    expect(screen.getByText("Language on file: English")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "BK-1" })).toHaveAttribute("href", "/t/t/reservations/1");
    expect(screen.getByText("Current")).toBeInTheDocument();
    expect(screen.getByText("Past")).toBeInTheDocument();
  });

  it("offers to link an unknown number to a guest", () => {
    renderUi(<GuestPanel conversation={{ ...conversation, guest_id: null, guests: null }} timeZone="UTC" />);
    expect(screen.getByText("+4915111110001 is not a guest of any reservation.")).toBeInTheDocument();
    expect(screen.getByLabelText("Find the guest by name, phone or e-mail")).toBeInTheDocument();
  });
});
