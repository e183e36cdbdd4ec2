import { Anchor, Card, Group, List, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { StatusBadge } from "../../../components/ui/status-badge";
import { useLiveQueries } from "../../../lib/live";
import { formatDate, formatTime, localDate } from "../../../lib/time";
import { useDueToday, useFailures } from "../api/get-day-messages";
import { useHealth } from "../api/get-health";
import { useStays, type Stay } from "../api/get-stays";

function StayList({ stays, empty, base }: { stays: Stay[]; empty: string; base: string }) {
  if (stays.length === 0) return <Text>{empty}</Text>;
  return (
    <List listStyleType="none" spacing="xs">
      {stays.map((s) => (
        <List.Item key={s.id}>
          <Anchor component={Link} to={`${base}/reservations/${s.id}`}>
            {s.guestName ?? s.pmsReservationId}
          </Anchor>{" "}
          <Text span c="dimmed" size="sm">
            {s.pmsReservationId}
            {s.room ? ` · ${s.room}` : ""}
          </Text>
        </List.Item>
      ))}
    </List>
  );
}

interface Props {
  tenantId: string;
  timeZone: string;
  // The hotel's open alerts (another feature's card, composed by the route).
  alerts?: ReactNode;
}

export function TodayView({ tenantId, timeZone, alerts }: Props) {
  const { t, i18n } = useTranslation();
  const today = localDate(new Date(), timeZone);
  const base = `/t/${tenantId}`;
  // The day's messages and failures follow the hotel's messages as they change.
  const live = useLiveQueries(`today:${tenantId}`, { table: "message_logs", filter: `tenant_id=eq.${tenantId}` }, [
    ["due-today", tenantId],
    ["failures", tenantId],
  ]);
  const arrivals = useStays(tenantId, "arrival_date", today);
  const departures = useStays(tenantId, "departure_date", today);
  const due = useDueToday(tenantId, timeZone);
  const failures = useFailures(tenantId);
  const health = useHealth(tenantId);

  return (
    <Stack>
      <div>
        <Title order={1}>{t("today.title")}</Title>
        <Group gap="sm">
          <Text>{t("today.dateIn", { date: formatDate(today, i18n.language), timezone: timeZone })}</Text>
          {live && <Text size="sm">{t("today.live")}</Text>}
        </Group>
      </div>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Card withBorder component="section" aria-labelledby="arrivals">
          <Title order={2} size="h3" id="arrivals">
            {t("today.arrivals")}
          </Title>
          <QueryState query={arrivals}>
            {(stays) => <StayList stays={stays} empty={t("today.noArrivals")} base={base} />}
          </QueryState>
        </Card>
        <Card withBorder component="section" aria-labelledby="departures">
          <Title order={2} size="h3" id="departures">
            {t("today.departures")}
          </Title>
          <QueryState query={departures}>
            {(stays) => <StayList stays={stays} empty={t("today.noDepartures")} base={base} />}
          </QueryState>
        </Card>
        <Card withBorder component="section" aria-labelledby="failures">
          <Title order={2} size="h3" id="failures">
            {t("today.failures")}
          </Title>
          <QueryState query={failures}>
            {({ rows, total }) =>
              total === 0 ? (
                <Text>{t("today.noFailures")}</Text>
              ) : (
                <Stack gap="xs">
                  <List listStyleType="none" spacing="xs">
                    {rows.map((m) => (
                      <List.Item key={m.id} data-testid={`failure-${m.id}`}>
                        <StatusBadge status={m.status} />{" "}
                        {/* Fixed on the messages screen (resend), showing this status. */}
                        <Anchor component={Link} to={`${base}/messages?status=${m.status}`}>
                          {m.templateKey}
                        </Anchor>
                        {m.lastError ? ` — ${m.lastError}` : ""}
                        {m.reservationId && (
                          <>
                            {" · "}
                            <Anchor component={Link} to={`${base}/reservations/${m.reservationId}`} size="sm">
                              {t("today.reservation")}
                            </Anchor>
                          </>
                        )}
                      </List.Item>
                    ))}
                  </List>
                  <Anchor component={Link} to={`${base}/messages`}>
                    {t("today.seeAll")} ({total})
                  </Anchor>
                </Stack>
              )
            }
          </QueryState>
        </Card>
        <Card withBorder component="section" aria-labelledby="due">
          <Title order={2} size="h3" id="due">
            {t("today.due")}
          </Title>
          <QueryState query={due}>
            {(rows) =>
              rows.length === 0 ? (
                <Text>{t("today.noDue")}</Text>
              ) : (
                <List listStyleType="none" spacing="xs">
                  {rows.map((m) => (
                    <List.Item key={m.id}>
                      {formatTime(m.scheduledFor, timeZone, i18n.language)} <StatusBadge status={m.status} />{" "}
                      {m.reservationId ? (
                        <Anchor component={Link} to={`${base}/reservations/${m.reservationId}`}>
                          {m.templateKey}
                        </Anchor>
                      ) : (
                        m.templateKey
                      )}
                    </List.Item>
                  ))}
                </List>
              )
            }
          </QueryState>
        </Card>
        <Card withBorder component="section" aria-labelledby="health">
          <Title order={2} size="h3" id="health">
            {t("today.health")}
          </Title>
          <QueryState query={health}>
            {(h) => (
              <List listStyleType="none" spacing="xs">
                <List.Item>
                  <Anchor component={Link} to={`${base}/whatsapp`}>
                    {t("today.whatsapp")}: {h.whatsapp ? t(`health.${h.whatsapp.status}`) : t("today.notConnected")}
                  </Anchor>
                  {h.whatsapp?.pausedReason ? ` — ${t("today.paused", { reason: h.whatsapp.pausedReason })}` : ""}
                </List.Item>
                {h.pms.length === 0 && (
                  <List.Item>
                    <Anchor component={Link} to={`${base}/pms`}>
                      {t("today.pms")}: {t("today.notConnected")}
                    </Anchor>
                  </List.Item>
                )}
                {h.pms.map((p) => (
                  <List.Item key={p.provider}>
                    <Anchor component={Link} to={`${base}/pms`}>
                      {t("today.pms")} {p.provider}: {t(`health.${p.health}`)}
                    </Anchor>
                    {p.lastError ? ` — ${p.lastError}` : ""}
                  </List.Item>
                ))}
              </List>
            )}
          </QueryState>
        </Card>
        {alerts}
      </SimpleGrid>
    </Stack>
  );
}
