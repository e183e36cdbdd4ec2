import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderUi, testQueryClient } from "../../../test/render";
import { openAlertsQueryOptions, toAlert } from "../api/get-alerts";
import { AlertList } from "./alert-list";
import { OpenAlertsCard } from "./open-alerts-card";

const TENANT = "11111111-1111-1111-1111-111111111111";

const failing = toAlert({
  id: 5,
  rule_key: "message_delivery_failure_critical",
  severity: "critical",
  metric: "message_failure_rate",
  status: "open",
  summary: "Message delivery failure rate above 10%: message failure rate 60.0% > 10.0% over 15 min",
  value: 0.6,
  threshold: 0.1,
  comparison: ">",
  lookback: "00:15:00",
  opened_at: "2027-03-28T08:00:00Z",
  resolved_at: null,
  runbook: "WAHA Down",
  runbook_url: "docs/runbook.md#waha-down",
});
const resolved = toAlert({
  ...{ id: 6, rule_key: "some_new_rule", severity: "warning", metric: "pms_failing_minutes", status: "resolved" },
  summary: "PMS unreachable for a while: pms failing 45.0 minutes > 30.0 minutes",
  value: 45,
  threshold: 30,
  comparison: ">",
  lookback: null,
  opened_at: "2027-03-28T06:00:00Z",
  resolved_at: "2027-03-28T07:00:00Z",
  runbook: "PMS Down",
  runbook_url: "docs/runbook.md#pms-down",
});

describe("AlertList", () => {
  it("says what fired, its value against the threshold, when, and where to fix it", () => {
    renderUi(<AlertList alerts={[failing, resolved]} tenantId={TENANT} timeZone="Europe/Berlin" detailed />);
    const open = screen.getByTestId("alert-5");
    expect(within(open).getByText("Critical")).toBeInTheDocument();
    expect(within(open).getByRole("link", { name: "Many messages are failing (critical)" })).toHaveAttribute(
      "href",
      `/t/${TENANT}/messages`,
    );
    expect(open).toHaveTextContent("60% > 10%");
    expect(open).toHaveTextContent(/open since Mar 28, 2027.*10:00/); // 08:00Z in Berlin (summer time)
    expect(open).toHaveTextContent("Runbook: WAHA Down (docs/runbook.md#waha-down)");

    // A rule without a translation falls back to the database's own headline.
    const old = screen.getByTestId("alert-6");
    expect(within(old).getByText("Resolved")).toBeInTheDocument();
    expect(within(old).getByRole("link", { name: "PMS unreachable for a while" })).toHaveAttribute(
      "href",
      `/t/${TENANT}/pms`,
    );
    expect(old).toHaveTextContent("45 min > 30 min");
  });

  it("is Today's card of open alerts, or says there are none", () => {
    const client = testQueryClient();
    client.setQueryData(openAlertsQueryOptions(TENANT).queryKey, []);
    renderUi(<OpenAlertsCard tenantId={TENANT} timeZone="UTC" />, client);
    expect(screen.getByRole("region", { name: "Open alerts" })).toHaveTextContent("No open alerts.");
  });
});
