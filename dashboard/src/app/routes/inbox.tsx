import { useParams } from "react-router";
import { useSession } from "../../features/auth/hooks/use-session";
import { InboxView } from "../../features/inbox/components/inbox-view";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const { conversationId = null } = useParams();
  const { session } = useSession();
  const tenant = useTenant();
  return (
    <InboxView
      tenantId={tenant.tenantId}
      userId={session?.user.id ?? ""}
      conversationId={conversationId}
      timeZone={tenant.timezone}
    />
  );
}
