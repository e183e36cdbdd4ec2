import "@mantine/charts/styles.css";
import { BarChart, LineChart } from "@mantine/charts";
import { Card, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { TenantFigures } from "../api/get-metrics";
import { bucketLabel, type Period } from "../lib/period";

// The charts (recharts through @mantine/charts): only this screen's chunk loads them.

const percent = (rate: number | null) => (rate === null ? null : Math.round(rate * 1000) / 10);

interface Props {
  series: TenantFigures[];
  period: Period;
  timeZone: string;
}

function ChartCard({ id, title, note, children }: { id: string; title: string; note: string; children: React.ReactNode }) {
  return (
    <Card withBorder component="figure" m={0} aria-labelledby={id}>
      <Title order={3} size="h4" id={id}>
        {title}
      </Title>
      <Text size="sm" mb="xs">
        {note}
      </Text>
      {children}
    </Card>
  );
}

export function MetricCharts({ series, period, timeZone }: Props) {
  const { t, i18n } = useTranslation();
  const data = series.map((b) => ({
    at: bucketLabel(b.since, period, timeZone, i18n.language),
    delivered: percent(b.message_delivery_rate),
    failed: percent(b.message_failure_rate),
    attempted: b.messages_attempted,
    webhooksOk: percent(b.webhook_success_rate),
    webhooksFailed: percent(b.webhook_failure_rate),
    syncsOk: b.syncs_finished - b.syncs_failed,
    syncsFailed: b.syncs_failed,
    syncAvg: b.sync_seconds_avg,
    syncP95: b.sync_seconds_p95,
  }));
  const pct = (v: number) => `${new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 }).format(v)} %`;
  const secs = (v: number) => new Intl.NumberFormat(i18n.language, { style: "unit", unit: "second" }).format(v);
  const common = { h: 220, data, dataKey: "at", connectNulls: false, withLegend: true, curveType: "linear" } as const;

  return (
    <>
      <ChartCard id="chart-messages" title={t("metrics.chartMessages")} note={t("metrics.chartMessagesNote")}>
        <LineChart
          {...common}
          series={[
            { name: "delivered", label: t("metrics.delivered"), color: "teal.7" },
            { name: "failed", label: t("metrics.failed"), color: "red.7" },
          ]}
          yAxisProps={{ domain: [0, 100] }}
          valueFormatter={pct}
        />
      </ChartCard>
      <ChartCard id="chart-attempts" title={t("metrics.chartAttempts")} note={t("metrics.chartAttemptsNote")}>
        <BarChart {...common} series={[{ name: "attempted", label: t("metrics.attempted"), color: "blue.7" }]} />
      </ChartCard>
      <ChartCard id="chart-webhooks" title={t("metrics.chartWebhooks")} note={t("metrics.chartWebhooksNote")}>
        <LineChart
          {...common}
          series={[
            { name: "webhooksOk", label: t("metrics.succeeded"), color: "teal.7" },
            { name: "webhooksFailed", label: t("metrics.failed"), color: "red.7" },
          ]}
          yAxisProps={{ domain: [0, 100] }}
          valueFormatter={pct}
        />
      </ChartCard>
      <ChartCard id="chart-syncs" title={t("metrics.chartSyncs")} note={t("metrics.chartSyncsNote")}>
        <BarChart
          {...common}
          type="stacked"
          series={[
            { name: "syncsOk", label: t("metrics.succeeded"), color: "teal.7" },
            { name: "syncsFailed", label: t("metrics.failed"), color: "red.7" },
          ]}
        />
      </ChartCard>
      <ChartCard id="chart-sync-time" title={t("metrics.chartSyncTime")} note={t("metrics.chartSyncTimeNote")}>
        <LineChart
          {...common}
          series={[
            { name: "syncAvg", label: t("metrics.average"), color: "blue.7" },
            { name: "syncP95", label: t("metrics.p95"), color: "grape.7" },
          ]}
          valueFormatter={secs}
        />
      </ChartCard>
    </>
  );
}
