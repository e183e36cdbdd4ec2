import { AutomationsView } from "../../features/automations/components/automations-view";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const tenant = useTenant();
  // Owners and admins edit the automations (the tables' RLS allows no one else).
  const canEdit = tenant.role === "owner" || tenant.role === "admin";
  return <AutomationsView tenantId={tenant.tenantId} canEdit={canEdit} />;
}
