import { ReservationsList } from "../../features/reservations/components/reservations-list";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  return <ReservationsList tenantId={useTenant().tenantId} />;
}
