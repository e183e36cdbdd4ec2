import { Card, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { QueryState } from "../../../components/ui/query-state";
import { useOpenAlerts } from "../api/get-alerts";
import { AlertList } from "./alert-list";

// Today's card: the hotel's open alerts, each linking to where it is fixed.
export function OpenAlertsCard({ tenantId, timeZone }: { tenantId: string; timeZone: string }) {
  const { t } = useTranslation();
  const alerts = useOpenAlerts(tenantId);
  return (
    <Card withBorder component="section" aria-labelledby="open-alerts">
      <Title order={2} size="h3" id="open-alerts">
        {t("alerts.openTitle")}
      </Title>
      <QueryState query={alerts}>
        {(rows) =>
          rows.length === 0 ? (
            <Text>{t("alerts.noneOpen")}</Text>
          ) : (
            <AlertList alerts={rows} tenantId={tenantId} timeZone={timeZone} />
          )
        }
      </QueryState>
    </Card>
  );
}
