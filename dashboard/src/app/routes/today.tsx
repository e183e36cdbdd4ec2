import { OpenAlertsCard } from "../../features/alerts/components/open-alerts-card";
import { useTenant } from "../../features/tenants/hooks/use-tenant";
import { TodayView } from "../../features/today/components/today-view";

// Each screen is its own route module, loaded when first opened (router.tsx): the sign-in page
// downloads none of them. Routes compose features with the current hotel; features never import
// each other.
export function Component() {
  const tenant = useTenant();
  return (
    <TodayView
      tenantId={tenant.tenantId}
      timeZone={tenant.timezone}
      alerts={<OpenAlertsCard tenantId={tenant.tenantId} timeZone={tenant.timezone} />}
    />
  );
}
