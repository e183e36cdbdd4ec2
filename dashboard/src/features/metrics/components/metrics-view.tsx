import { Card, Group, SegmentedControl, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { QueryState } from "../../../components/ui/query-state";
import { formatDateTime } from "../../../lib/time";
import { useHotelMetrics, type HotelMetrics, type TenantFigures } from "../api/get-metrics";
import { PERIODS, type Period } from "../lib/period";
import { MetricCharts } from "./metric-charts";

interface Props {
  tenantId: string;
  timeZone: string;
  period: Period;
  onPeriodChange: (period: Period) => void;
  // The hotel's alerts for the period (composed by the route: another feature's list).
  alerts?: (since: string) => React.ReactNode;
}

function useFormat() {
  const { i18n } = useTranslation();
  return {
    rate: (r: number | null) =>
      r === null ? "–" : new Intl.NumberFormat(i18n.language, { style: "percent", maximumFractionDigits: 1 }).format(r),
    count: (n: number) => new Intl.NumberFormat(i18n.language).format(n),
    secs: (s: number | null) =>
      s === null
        ? "–"
        : new Intl.NumberFormat(i18n.language, { style: "unit", unit: "second", maximumFractionDigits: 1 }).format(s),
  };
}

// A rate never stands alone: its failure rate is beside it, over the same attempts.
function Summary({ total, queues }: { total: TenantFigures | null; queues: HotelMetrics["queues"] }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (!total) return null;
  const cards = [
    {
      id: "sum-messages",
      title: t("metrics.messages"),
      main: t("metrics.rates", {
        ok: f.rate(total.message_delivery_rate),
        okLabel: t("metrics.delivered"),
        failed: f.rate(total.message_failure_rate),
      }),
      detail: t("metrics.messagesDetail", {
        attempted: f.count(total.messages_attempted),
        failed: f.count(total.messages_failed),
        dead: f.count(total.messages_dead),
      }),
    },
    {
      id: "sum-webhooks",
      title: t("metrics.webhooks"),
      main: t("metrics.rates", {
        ok: f.rate(total.webhook_success_rate),
        okLabel: t("metrics.succeeded"),
        failed: f.rate(total.webhook_failure_rate),
      }),
      detail: t("metrics.webhooksDetail", {
        attempted: f.count(total.webhooks_attempted),
        refused: f.count(total.webhooks_refused),
        pms: f.rate(total.pms_webhook_failure_rate),
        whatsapp: f.rate(total.waha_webhook_failure_rate),
      }),
    },
    {
      id: "sum-syncs",
      title: t("metrics.syncs"),
      main: t("metrics.syncRates", {
        failed: f.rate(total.sync_failure_rate),
        finished: f.count(total.syncs_finished),
      }),
      detail: t("metrics.syncsDetail", {
        avg: f.secs(total.sync_seconds_avg),
        p95: f.secs(total.sync_seconds_p95),
        reservations: f.count(total.reservations_failed_to_sync),
      }),
    },
    {
      id: "sum-queues",
      title: t("metrics.queues"),
      main: t("metrics.queuesMain", { due: f.count(queues.messagesDue), retrying: f.count(queues.messagesRetrying) }),
      detail: t("metrics.queuesDetail", {
        dead: f.count(queues.messagesDead),
        inboundRetrying: f.count(queues.inboundRetrying),
        inboundDead: f.count(queues.inboundDead),
      }),
    },
  ];
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
      {cards.map((c) => (
        <Card key={c.id} withBorder component="section" aria-labelledby={c.id} data-testid={c.id}>
          <Title order={2} size="h4" id={c.id}>
            {c.title}
          </Title>
          <Text fw={600}>{c.main}</Text>
          <Text size="sm">{c.detail}</Text>
        </Card>
      ))}
    </SimpleGrid>
  );
}

export function MetricsView({ tenantId, timeZone, period, onPeriodChange, alerts }: Props) {
  const { t, i18n } = useTranslation();
  const metrics = useHotelMetrics(tenantId, period, timeZone);

  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Title order={1}>{t("metrics.title")}</Title>
        <SegmentedControl
          aria-label={t("metrics.period")}
          value={period}
          onChange={(v) => onPeriodChange(v as Period)}
          data={Object.keys(PERIODS).map((p) => ({ value: p, label: t(`metrics.period_${p}`) }))}
        />
      </Group>
      <QueryState query={metrics}>
        {(m) => (
          <Stack>
            <Text>
              {t("metrics.window", {
                since: formatDateTime(m.since, timeZone, i18n.language),
                until: formatDateTime(m.until, timeZone, i18n.language),
                timezone: timeZone,
              })}
            </Text>
            <Summary total={m.total} queues={m.queues} />
            <Card withBorder component="section" aria-labelledby="hotel-alerts">
              <Title order={2} size="h3" id="hotel-alerts">
                {t("metrics.alerts")}
              </Title>
              {alerts?.(m.since)}
            </Card>
            <Title order={2} size="h3">
              {t("metrics.overTime")}
            </Title>
            <SimpleGrid cols={{ base: 1, md: 2 }}>
              <MetricCharts series={m.series} period={period} timeZone={timeZone} />
            </SimpleGrid>
          </Stack>
        )}
      </QueryState>
    </Stack>
  );
}
