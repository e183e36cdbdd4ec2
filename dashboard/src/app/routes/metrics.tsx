import { useSearchParams } from "react-router";
import { PeriodAlerts } from "../../features/alerts/components/period-alerts";
import { MetricsView } from "../../features/metrics/components/metrics-view";
import { isPeriod } from "../../features/metrics/lib/period";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

// The runbook's per-tenant figures over time and the hotel's alerts. The charting library
// (recharts, through @mantine/charts) is imported from here only, so it is in this route's chunk
// and the initial JavaScript does not carry it. The period is in the URL (?period=7d).
export function Component() {
  const tenant = useTenant();
  const [params, setParams] = useSearchParams();
  const requested = params.get("period");
  const period = isPeriod(requested) ? requested : "24h";
  return (
    <MetricsView
      tenantId={tenant.tenantId}
      timeZone={tenant.timezone}
      period={period}
      onPeriodChange={(p) => setParams({ period: p }, { replace: true })}
      alerts={(since) => <PeriodAlerts tenantId={tenant.tenantId} timeZone={tenant.timezone} since={since} />}
    />
  );
}
