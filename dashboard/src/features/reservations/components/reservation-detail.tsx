import { Anchor, Badge, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { formatDate, formatDateTime } from "../../../lib/time";
import { useReservation } from "../api/get-reservation";
import { useTimeline } from "../api/get-timeline";
import { useLiveTimeline } from "../hooks/use-live-timeline";
import { MessageTimeline } from "./message-timeline";

export function ReservationDetailView({ tenantId, reservationId }: { tenantId: string; reservationId: string }) {
  const { t, i18n } = useTranslation();
  const reservation = useReservation(tenantId, reservationId);
  const live = useLiveTimeline(tenantId, reservationId);
  const timeline = useTimeline(tenantId, reservationId, live);
  const back = (
    <Anchor component={Link} to={`/t/${tenantId}/reservations`}>
      {t("reservations.back")}
    </Anchor>
  );

  return (
    <QueryState query={reservation}>
      {(r) =>
        !r ? (
          <Stack>
            <Title order={1}>{t("reservations.title")}</Title>
            <Text role="alert">{t("reservations.notFound")}</Text>
            {back}
          </Stack>
        ) : (
          <Stack>
            {back}
            <Title order={1}>{r.guest?.name ?? r.pmsReservationId}</Title>
            <Card withBorder>
              <Group gap="xl" wrap="wrap">
                <Text>
                  {t("reservations.pmsId")}: {r.pmsReservationId} ({r.provider})
                </Text>
                <Text>
                  {t("reservations.stay")}:{" "}
                  {t("reservations.nights", {
                    from: formatDate(r.arrivalDate, i18n.language),
                    to: formatDate(r.departureDate, i18n.language),
                  })}
                </Text>
                <Text>
                  {t("reservations.status")}: {t(`reservations.rstatus_${r.status}`)}
                </Text>
                {r.room && (
                  <Text>
                    {t("reservations.room")}: {r.room}
                  </Text>
                )}
                {r.guest?.phone && (
                  <Text>
                    {t("reservations.phone")}: {r.guest.phone}
                  </Text>
                )}
                {r.guest && (
                  <Text>
                    {t("reservations.consent")}:{" "}
                    <Badge color={r.guest.optIn ? "green" : "red"} variant="light" c="black">
                      {r.guest.optIn ? t("reservations.optedIn") : t("reservations.optedOut")}
                    </Badge>{" "}
                    {!r.guest.optIn && r.guest.optedOutAt && formatDateTime(r.guest.optedOutAt, r.timezone, i18n.language)}
                    {!r.guest.optIn && r.guest.optOutReason && ` ${t("reservations.optOutReason", { reason: r.guest.optOutReason })}`}
                  </Text>
                )}
              </Group>
            </Card>
            <Group gap="sm">
              <Title order={2}>{t("reservations.timeline")}</Title>
              {live && <Text size="sm">{t("reservations.live")}</Text>}
            </Group>
            <QueryState query={timeline}>{(entries) => <MessageTimeline entries={entries} timeZone={r.timezone} />}</QueryState>
          </Stack>
        )
      }
    </QueryState>
  );
}
