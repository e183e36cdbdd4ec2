// How an alert's figures read, and where what it reports is fixed.

export type Unit = "ratio" | "minutes" | "seconds" | "count";

// The runbook's metric names carry their unit (ops.metric_catalog): *_rate is a ratio, *_minutes
// and *_seconds a duration; the rest are counts.
export function unitOf(metric: string): Unit {
  if (metric.endsWith("_rate") || metric.endsWith("_usage")) return "ratio";
  if (metric.endsWith("_minutes")) return "minutes";
  if (metric.endsWith("_seconds")) return "seconds";
  return "count";
}

export function formatFigure(value: number | null, unit: Unit, locale: string): string {
  if (value === null || Number.isNaN(value)) return "–";
  switch (unit) {
    case "ratio":
      return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(value);
    case "minutes":
      return new Intl.NumberFormat(locale, { style: "unit", unit: "minute", maximumFractionDigits: 0 }).format(value);
    case "seconds":
      return new Intl.NumberFormat(locale, { style: "unit", unit: "second", maximumFractionDigits: 1 }).format(value);
    default:
      return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);
  }
}

// The screen where staff fix what an alert reports (paths under /t/<tenant id>/).
export function fixPath(metric: string): string {
  switch (metric) {
    case "message_failure_rate":
      return "messages";
    case "retry_queue_depth":
      return "messages?status=failed";
    case "dead_letters":
      return "messages?status=dead";
    case "waha_disconnected_minutes":
      return "whatsapp";
    case "webhook_failure_rate":
    case "failed_reservation_syncs":
    case "pms_failing_minutes":
      return "pms";
    default:
      return "metrics";
  }
}
