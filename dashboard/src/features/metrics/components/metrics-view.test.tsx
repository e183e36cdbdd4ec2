import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderUi, testQueryClient } from "../../../test/render";
import { hotelMetricsQueryOptions, type HotelMetrics, type TenantFigures } from "../api/get-metrics";
import { MetricsView } from "./metrics-view";

const TENANT = "11111111-1111-1111-1111-111111111111";
const ZONE = "Europe/Berlin";

function figures(since: string, until: string, over: Partial<TenantFigures> = {}): TenantFigures {
  return {
    tenant_id: TENANT,
    tenant_name: "Hotel Spree",
    since,
    until,
    webhooks_attempted: 200,
    webhooks_received: 198,
    webhooks_succeeded: 190,
    webhooks_failed: 10,
    webhooks_refused: 2,
    webhooks_in_flight: 0,
    webhook_success_rate: 0.95,
    webhook_failure_rate: 0.05,
    pms_webhooks_attempted: 150,
    pms_webhooks_succeeded: 147,
    pms_webhooks_failed: 3,
    pms_webhooks_refused: 2,
    pms_webhook_success_rate: 0.98,
    pms_webhook_failure_rate: 0.02,
    waha_webhooks_attempted: 50,
    waha_webhooks_succeeded: 43,
    waha_webhooks_failed: 7,
    waha_webhooks_refused: 0,
    waha_webhook_success_rate: 0.86,
    waha_webhook_failure_rate: 0.14,
    syncs_finished: 24,
    syncs_failed: 1,
    sync_failure_rate: 0.0417,
    sync_seconds_avg: 2.5,
    sync_seconds_p95: 4.25,
    sync_seconds_max: 6,
    reservations_failed_to_sync: 3,
    messages_attempted: 40,
    messages_sent: 36,
    messages_delivered: 30,
    messages_read: 20,
    messages_failed: 1,
    messages_dead: 3,
    message_delivery_rate: 0.75,
    message_failure_rate: 0.1,
    ...over,
  };
}

const data: HotelMetrics = {
  since: "2027-03-27T12:00:00Z",
  until: "2027-03-28T12:00:00Z",
  total: figures("2027-03-27T12:00:00Z", "2027-03-28T12:00:00Z"),
  series: [
    figures("2027-03-27T12:00:00Z", "2027-03-27T13:00:00Z"),
    figures("2027-03-27T13:00:00Z", "2027-03-27T14:00:00Z", {
      messages_attempted: 0,
      message_delivery_rate: null,
      message_failure_rate: null,
    }),
  ],
  queues: { messagesDue: 4, messagesRetrying: 2, messagesDead: 3, inboundRetrying: 1, inboundDead: 0 },
};

describe("MetricsView", () => {
  it("shows each rate with its failure rate beside it, the alerts, and switches the period", async () => {
    const client = testQueryClient();
    client.setQueryData(hotelMetricsQueryOptions(TENANT, "24h", ZONE).queryKey, data);
    const onPeriodChange = vi.fn();
    const alerts = vi.fn((since: string) => <p>alerts since {since}</p>);
    renderUi(
      <MetricsView tenantId={TENANT} timeZone={ZONE} period="24h" onPeriodChange={onPeriodChange} alerts={alerts} />,
      client,
    );

    expect(screen.getByRole("heading", { name: "Metrics", level: 1 })).toBeInTheDocument();
    // The window on the property's clock (12:00Z: 1 PM in winter time, 2 PM the day clocks went forward).
    expect(screen.getByText(/Mar 27, 2027, 1:00\sPM to Mar 28, 2027, 2:00\sPM \(Europe\/Berlin\)/)).toBeInTheDocument();
    expect(screen.getByTestId("sum-messages")).toHaveTextContent("Delivered 75% · failed 10%");
    expect(screen.getByTestId("sum-messages")).toHaveTextContent("of 40 attempted; 1 failed, 3 dead");
    expect(screen.getByTestId("sum-webhooks")).toHaveTextContent("Succeeded 95% · failed 5%");
    expect(screen.getByTestId("sum-webhooks")).toHaveTextContent("failed: PMS 2%, WhatsApp 14%");
    expect(screen.getByTestId("sum-syncs")).toHaveTextContent("Failed 4.2% of 24 finished");
    expect(screen.getByTestId("sum-syncs")).toHaveTextContent("average 2.5 sec, 95% within 4.3 sec");
    expect(screen.getByTestId("sum-queues")).toHaveTextContent("4 messages due, 2 waiting for a retry");
    expect(screen.getByRole("region", { name: "Alerts" })).toHaveTextContent(`alerts since ${data.since}`);
    for (const chart of ["Message delivery", "Messages attempted", "PMS syncs", "Sync duration"]) {
      expect(screen.getByRole("figure", { name: chart })).toBeInTheDocument();
    }

    await userEvent.click(screen.getByRole("radio", { name: "7 days" }));
    expect(onPeriodChange).toHaveBeenCalledWith("7d");
  });

  it("says a rate is unknown when nothing was attempted", () => {
    const client = testQueryClient();
    const empty = figures(data.since, data.until, {
      messages_attempted: 0,
      message_delivery_rate: null,
      message_failure_rate: null,
    });
    client.setQueryData(hotelMetricsQueryOptions(TENANT, "30d", ZONE).queryKey, { ...data, total: empty });
    renderUi(<MetricsView tenantId={TENANT} timeZone={ZONE} period="30d" onPeriodChange={() => {}} />, client);
    expect(screen.getByTestId("sum-messages")).toHaveTextContent("Delivered – · failed –");
  });
});
