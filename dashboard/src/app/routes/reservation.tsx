import { useParams } from "react-router";
import { ReservationDetailView } from "../../features/reservations/components/reservation-detail";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const { reservationId = "" } = useParams();
  return <ReservationDetailView tenantId={useTenant().tenantId} reservationId={reservationId} />;
}
