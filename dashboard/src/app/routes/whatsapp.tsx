import { useTenant } from "../../features/tenants/hooks/use-tenant";
import { WhatsappScreen } from "../../features/whatsapp/components/whatsapp-screen";

export function Component() {
  const tenant = useTenant();
  // Connecting, pausing and pacing are for owners and admins (waha-session and the RPCs check).
  const canManage = tenant.role === "owner" || tenant.role === "admin";
  return <WhatsappScreen tenantId={tenant.tenantId} timeZone={tenant.timezone} canManage={canManage} />;
}
