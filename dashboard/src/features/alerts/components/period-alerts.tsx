import { Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { QueryState } from "../../../components/ui/query-state";
import { useAlertsSince } from "../api/get-alerts";
import { AlertList } from "./alert-list";

// The metrics screen's alerts: open ones, and those opened or resolved in the period, with the
// value against the threshold and the runbook section.
export function PeriodAlerts({ tenantId, timeZone, since }: { tenantId: string; timeZone: string; since: string }) {
  const { t } = useTranslation();
  const alerts = useAlertsSince(tenantId, since);
  return (
    <QueryState query={alerts}>
      {(rows) =>
        rows.length === 0 ? (
          <Text>{t("alerts.noneInPeriod")}</Text>
        ) : (
          <AlertList alerts={rows} tenantId={tenantId} timeZone={timeZone} detailed />
        )
      }
    </QueryState>
  );
}
