import { Anchor, Badge, Group, List, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { formatDateTime } from "../../../lib/time";
import type { HotelAlert } from "../api/get-alerts";
import { fixPath, formatFigure, unitOf } from "../lib/figures";

interface Props {
  alerts: HotelAlert[];
  tenantId: string;
  timeZone: string;
  // Today shows the headline and where to fix it; the metrics screen adds the details.
  detailed?: boolean;
}

// The rule's summary as written in the database ("... above 10%: message failure rate 60.0% > ..."):
// its first part is the fallback headline for a rule without a translation.
const headline = (summary: string) => summary.split(":")[0] ?? summary;

export function AlertList({ alerts, tenantId, timeZone, detailed = false }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <List listStyleType="none" spacing="sm">
      {alerts.map((a) => {
        const unit = unitOf(a.metric);
        const title = t(`alerts.rule.${a.ruleKey}`, { defaultValue: headline(a.summary) });
        return (
          <List.Item key={a.id} data-testid={`alert-${a.id}`}>
            <Stack gap={2}>
              <Group gap="xs" wrap="wrap">
                <Badge color={a.severity === "critical" ? "red" : "yellow"} variant="light" c="black">
                  {t(`alerts.${a.severity}`)}
                </Badge>
                {a.status === "resolved" && (
                  <Badge color="gray" variant="light" c="black">
                    {t("alerts.resolved")}
                  </Badge>
                )}
                <Anchor component={Link} to={`/t/${tenantId}/${fixPath(a.metric)}`}>
                  {title}
                </Anchor>
              </Group>
              <Text size="sm">
                {t("alerts.figure", {
                  value: formatFigure(a.value, unit, lang),
                  comparison: a.comparison,
                  threshold: formatFigure(a.threshold, unit, lang),
                })}
                {" · "}
                {a.status === "open"
                  ? t("alerts.openSince", { when: formatDateTime(a.openedAt, timeZone, lang) })
                  : t("alerts.resolvedAt", {
                      opened: formatDateTime(a.openedAt, timeZone, lang),
                      resolved: formatDateTime(a.resolvedAt, timeZone, lang),
                    })}
              </Text>
              {detailed && (
                <Text size="sm">
                  {t("alerts.runbook", { section: a.runbook, link: a.runbookUrl ?? "docs/runbook.md" })}
                </Text>
              )}
            </Stack>
          </List.Item>
        );
      })}
    </List>
  );
}
