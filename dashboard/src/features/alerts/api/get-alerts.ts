import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { toUserError } from "../../../lib/errors";
import { supabase } from "../../../lib/supabase";

export interface HotelAlert {
  id: number;
  ruleKey: string;
  severity: "critical" | "warning";
  metric: string;
  status: "open" | "resolved";
  summary: string;
  value: number | null;
  threshold: number | null;
  comparison: string;
  lookback: string | null;
  openedAt: string;
  resolvedAt: string | null;
  runbook: string;
  runbookUrl: string | null;
}

type Row = {
  id: number | null;
  rule_key: string | null;
  severity: string | null;
  metric: string | null;
  status: string | null;
  summary: string | null;
  value: number | null;
  threshold: number | null;
  comparison: string | null;
  lookback: string | null;
  opened_at: string | null;
  resolved_at: string | null;
  runbook: string | null;
  runbook_url: string | null;
};

const COLUMNS =
  "id, rule_key, severity, metric, status, summary, value, threshold, comparison, lookback, opened_at, resolved_at, runbook, runbook_url";

export function toAlert(r: Row): HotelAlert {
  return {
    id: r.id ?? 0,
    ruleKey: r.rule_key ?? "",
    severity: r.severity === "critical" ? "critical" : "warning",
    metric: r.metric ?? "",
    status: r.status === "resolved" ? "resolved" : "open",
    summary: r.summary ?? "",
    value: r.value,
    threshold: r.threshold,
    comparison: r.comparison ?? ">",
    lookback: r.lookback,
    openedAt: r.opened_at ?? "",
    resolvedAt: r.resolved_at,
    runbook: r.runbook ?? "",
    runbookUrl: r.runbook_url,
  };
}

// The hotel's alerts (metrics.alerts, under RLS: its own only): the open ones, and when `since`
// is given, also those opened or resolved since then; open first, newest first.
export async function getAlerts(tenantId: string, since: string | null): Promise<HotelAlert[]> {
  let query = supabase.schema("metrics").from("alerts").select(COLUMNS).eq("tenant_id", tenantId);
  query = since
    ? query.or(`status.eq.open,opened_at.gte.${since},resolved_at.gte.${since}`)
    : query.eq("status", "open");
  const { data, error } = await query.order("opened_at", { ascending: false }).limit(100);
  if (error) throw toUserError(error);
  const alerts = data.map(toAlert);
  return [...alerts.filter((a) => a.status === "open"), ...alerts.filter((a) => a.status !== "open")];
}

export const openAlertsQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: ["alerts", tenantId, "open"],
    queryFn: () => getAlerts(tenantId, null),
    // Alerts are evaluated each minute by the database (pg_cron): look again as often.
    refetchInterval: 60_000,
  });

export const alertsSinceQueryOptions = (tenantId: string, since: string) =>
  queryOptions({
    queryKey: ["alerts", tenantId, "since", since],
    queryFn: () => getAlerts(tenantId, since),
    // The period moves with the clock: the list stays while the next one loads.
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });

export function useOpenAlerts(tenantId: string) {
  return useQuery(openAlertsQueryOptions(tenantId));
}

export function useAlertsSince(tenantId: string, since: string) {
  return useQuery(alertsSinceQueryOptions(tenantId, since));
}
