import { MessagesNeedingAction } from "../../features/messages/components/messages-needing-action";
import { useCan, useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const tenant = useTenant();
  const canResend = useCan("resend");
  return <MessagesNeedingAction tenantId={tenant.tenantId} timeZone={tenant.timezone} canResend={canResend} />;
}
