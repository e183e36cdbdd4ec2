import { queryOptions, useQuery } from "@tanstack/react-query";
import type { Database } from "../../../lib/database.types";
import { toUserError } from "../../../lib/errors";
import { supabase } from "../../../lib/supabase";
import { windowOf, type Period } from "../lib/period";

// One row of metrics.tenant_metrics (and of each bucket of tenant_metrics_series). Rates are null
// when nothing was attempted (the generated type cannot say so: PostgreSQL does not record
// nullability of a function's result columns).
type Figures = Database["metrics"]["Functions"]["tenant_metrics"]["Returns"][number];
type Rate = number | null;
export type TenantFigures = Omit<
  Figures,
  | "webhook_success_rate"
  | "webhook_failure_rate"
  | "pms_webhook_success_rate"
  | "pms_webhook_failure_rate"
  | "waha_webhook_success_rate"
  | "waha_webhook_failure_rate"
  | "sync_failure_rate"
  | "sync_seconds_avg"
  | "sync_seconds_p95"
  | "sync_seconds_max"
  | "message_delivery_rate"
  | "message_failure_rate"
> & {
  webhook_success_rate: Rate;
  webhook_failure_rate: Rate;
  pms_webhook_success_rate: Rate;
  pms_webhook_failure_rate: Rate;
  waha_webhook_success_rate: Rate;
  waha_webhook_failure_rate: Rate;
  sync_failure_rate: Rate;
  sync_seconds_avg: Rate;
  sync_seconds_p95: Rate;
  sync_seconds_max: Rate;
  message_delivery_rate: Rate;
  message_failure_rate: Rate;
};

export interface QueueDepths {
  messagesDue: number;
  messagesRetrying: number;
  messagesDead: number;
  inboundRetrying: number;
  inboundDead: number;
}

export interface HotelMetrics {
  since: string;
  until: string;
  // The whole period: the figures the headline rates come from.
  total: TenantFigures | null;
  // One per point on the charts, oldest first.
  series: TenantFigures[];
  queues: QueueDepths;
}

export async function getHotelMetrics(tenantId: string, period: Period, timeZone: string): Promise<HotelMetrics> {
  const { since, until, step } = windowOf(period);
  const metrics = supabase.schema("metrics");
  const [series, total, queues] = await Promise.all([
    metrics.rpc("tenant_metrics_series", {
      p_since: since,
      p_until: until,
      p_step: step,
      p_timezone: timeZone,
      p_tenant_id: tenantId,
    }),
    metrics.rpc("tenant_metrics", { p_since: since, p_until: until, p_tenant_id: tenantId }),
    metrics
      .from("queue_depths")
      .select("messages_due, messages_retrying, messages_dead, inbound_retrying, inbound_dead")
      .eq("tenant_id", tenantId)
      .maybeSingle(),
  ]);
  if (series.error) throw toUserError(series.error);
  if (total.error) throw toUserError(total.error);
  if (queues.error) throw toUserError(queues.error);
  const q = queues.data;
  return {
    since,
    until,
    total: (total.data[0] as TenantFigures | undefined) ?? null,
    series: series.data as TenantFigures[],
    queues: {
      messagesDue: q?.messages_due ?? 0,
      messagesRetrying: q?.messages_retrying ?? 0,
      messagesDead: q?.messages_dead ?? 0,
      inboundRetrying: q?.inbound_retrying ?? 0,
      inboundDead: q?.inbound_dead ?? 0,
    },
  };
}

export const hotelMetricsQueryOptions = (tenantId: string, period: Period, timeZone: string) =>
  queryOptions({
    queryKey: ["metrics", tenantId, period, timeZone],
    queryFn: () => getHotelMetrics(tenantId, period, timeZone),
    refetchInterval: 60_000,
  });

export function useHotelMetrics(tenantId: string, period: Period, timeZone: string) {
  return useQuery(hotelMetricsQueryOptions(tenantId, period, timeZone));
}
