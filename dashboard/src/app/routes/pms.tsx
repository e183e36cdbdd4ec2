import { PmsScreen } from "../../features/pms/components/pms-screen";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const tenant = useTenant();
  // Syncs, secrets and replays are for owners and admins (the RPCs check it); front desk reads.
  const canManage = tenant.role === "owner" || tenant.role === "admin";
  return <PmsScreen tenantId={tenant.tenantId} timeZone={tenant.timezone} canManage={canManage} />;
}
