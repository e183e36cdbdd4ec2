import { Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { MessagesNeedingAction } from "../../features/messages/components/messages-needing-action";
import { ReservationDetailView } from "../../features/reservations/components/reservation-detail";
import { ReservationsList } from "../../features/reservations/components/reservations-list";
import { useCan, useTenant } from "../../features/tenants/hooks/use-tenant";
import { TodayView } from "../../features/today/components/today-view";

// The routes compose the features with the current hotel; features never import each other.
export function TodayRoute() {
  const tenant = useTenant();
  return <TodayView tenantId={tenant.tenantId} timeZone={tenant.timezone} />;
}

export function ReservationsRoute() {
  return <ReservationsList tenantId={useTenant().tenantId} />;
}

export function ReservationRoute() {
  const { reservationId = "" } = useParams();
  return <ReservationDetailView tenantId={useTenant().tenantId} reservationId={reservationId} />;
}

export function MessagesRoute() {
  const tenant = useTenant();
  const canResend = useCan("resend");
  return <MessagesNeedingAction tenantId={tenant.tenantId} timeZone={tenant.timezone} canResend={canResend} />;
}

export function NotFoundRoute() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t("errors.notFound")}</Title>
      <Text>{t("reservations.notFound")}</Text>
    </Stack>
  );
}
