import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { localDate } from "../../../lib/time";
import { renderUi, testQueryClient } from "../../../test/render";
import { dueTodayQueryOptions, failuresQueryOptions } from "../api/get-day-messages";
import { healthQueryOptions } from "../api/get-health";
import { staysQueryOptions } from "../api/get-stays";
import { TodayView } from "./today-view";

const TENANT = "11111111-1111-1111-1111-111111111111";
const ZONE = "Pacific/Auckland";

describe("TodayView", () => {
  it("shows the hotel's day in its timezone, and links every line to where it is fixed", () => {
    const today = localDate(new Date(), ZONE);
    const client = testQueryClient();
    client.setQueryData(staysQueryOptions(TENANT, "arrival_date", today).queryKey, [
      { id: "r-1", pmsReservationId: "BK-1", guestName: "Ada Lovelace", room: "101", status: "confirmed" },
    ]);
    client.setQueryData(staysQueryOptions(TENANT, "departure_date", today).queryKey, []);
    client.setQueryData(dueTodayQueryOptions(TENANT, ZONE).queryKey, []);
    client.setQueryData(failuresQueryOptions(TENANT).queryKey, {
      rows: [
        {
          id: 9,
          reservationId: "r-2",
          templateKey: "pre_arrival",
          status: "dead",
          scheduledFor: "2027-01-01T00:00:00Z",
          lastError: "WAHA answered 500",
        },
      ],
      total: 3,
    });
    client.setQueryData(healthQueryOptions(TENANT).queryKey, {
      whatsapp: { status: "SCAN_QR_CODE", pausedReason: "session down", changedAt: "2027-01-01T00:00:00Z" },
      pms: [{ provider: "apaleo", health: "failing", lastError: "401 from the PMS", lastSuccessAt: null }],
    });
    renderUi(
      <TodayView tenantId={TENANT} timeZone={ZONE} alerts={<section aria-label="Open alerts">an alert</section>} />,
      client,
    );

    expect(screen.getByText(new RegExp(`in ${ZONE}`))).toBeInTheDocument();
    const arrivals = screen.getByRole("region", { name: "Arrivals" });
    expect(within(arrivals).getByRole("link", { name: "Ada Lovelace" })).toHaveAttribute(
      "href",
      `/t/${TENANT}/reservations/r-1`,
    );
    expect(screen.getByText("No departures today.")).toBeInTheDocument();
    const failures = screen.getByRole("region", { name: "Failures needing action" });
    // A failure is fixed on the messages screen, filtered to its status; its reservation is a link away.
    expect(within(failures).getByRole("link", { name: "pre_arrival" })).toHaveAttribute(
      "href",
      `/t/${TENANT}/messages?status=dead`,
    );
    expect(within(failures).getByRole("link", { name: "Reservation" })).toHaveAttribute(
      "href",
      `/t/${TENANT}/reservations/r-2`,
    );
    expect(within(failures).getByRole("link", { name: /See all that need action \(3\)/ })).toHaveAttribute(
      "href",
      `/t/${TENANT}/messages`,
    );
    const health = screen.getByRole("region", { name: "Connections" });
    expect(health).toHaveTextContent("WhatsApp: Waiting for QR scan — Sending paused: session down");
    expect(health).toHaveTextContent("PMS apaleo: Failing — 401 from the PMS");
    expect(within(health).getByRole("link", { name: "WhatsApp: Waiting for QR scan" })).toHaveAttribute(
      "href",
      `/t/${TENANT}/whatsapp`,
    );
    expect(within(health).getByRole("link", { name: "PMS apaleo: Failing" })).toHaveAttribute("href", `/t/${TENANT}/pms`);
    expect(screen.getByRole("region", { name: "Open alerts" })).toHaveTextContent("an alert");
  });
});
