import { TeamScreen } from "../../features/team/components/team-screen";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const tenant = useTenant();
  return <TeamScreen tenantId={tenant.tenantId} myRole={tenant.role} timeZone={tenant.timezone} />;
}
