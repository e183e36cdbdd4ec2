import { Alert, Anchor, Badge, Button, Card, Group, List, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { UserFacingError } from "../../../lib/errors";
import { formatDate, formatDateTime } from "../../../lib/time";
import { linkGuest, useInboxMutation } from "../api/actions";
import { useFindGuests } from "../api/find-guests";
import { useGuestReservations } from "../api/get-conversation";
import type { Conversation } from "../api/types";
import { languageName } from "./format";

// Who the guest is: their consent, the language they write in, and their reservations
// (or, for an unknown number, a way to link it to a guest).
export function GuestPanel({ conversation: c, timeZone }: { conversation: Conversation; timeZone: string }) {
  const { t, i18n } = useTranslation();
  const guest = c.guests;
  return (
    <Card withBorder component="section" aria-labelledby="guest-heading">
      <Stack gap="xs">
        <Title order={2} size="h4" id="guest-heading">
          {t("inbox.guest.heading")}
        </Title>
        {guest ? (
          <>
            <Text>
              {guest.full_name ?? c.contact_name ?? "—"}
              {guest.phone_e164 && ` · ${guest.phone_e164}`}
            </Text>
            <Group gap="xs">
              <Text size="sm">{t("inbox.guest.consent")}:</Text>
              <Badge color={guest.whatsapp_opt_in ? "green" : "red"} variant="light" c="black">
                {guest.whatsapp_opt_in ? t("inbox.guest.optedIn") : t("inbox.guest.optedOut")}
              </Badge>
              {!guest.whatsapp_opt_in && guest.opted_out_at && (
                <Text size="sm">{formatDateTime(guest.opted_out_at, timeZone, i18n.language)}</Text>
              )}
            </Group>
            {guest.language && (
              <Text size="sm">
                {t("inbox.guest.storedLanguage", { language: languageName(guest.language, i18n.language) })}
              </Text>
            )}
          </>
        ) : (
          <Text>{t("inbox.guest.unknown", { phone: c.phone_e164 ?? c.chat_id })}</Text>
        )}
        {c.detected_language && (
          <Text size="sm">
            {t("inbox.guest.detectedLanguage", { language: languageName(c.detected_language, i18n.language) })}
          </Text>
        )}
        {guest ? <Reservations conversation={c} /> : <LinkGuest conversation={c} />}
      </Stack>
    </Card>
  );
}

function Reservations({ conversation: c }: { conversation: Conversation }) {
  const { t, i18n } = useTranslation();
  const reservations = useGuestReservations(c.tenant_id, c.id, c.guest_id);
  const rows = reservations.data ?? [];
  return (
    <Stack gap={4}>
      <Title order={3} size="h5">
        {t("inbox.guest.reservations")}
      </Title>
      {reservations.isError && <Text c="red.9">{t("errors.unknown")}</Text>}
      {rows.length === 0 && reservations.isSuccess && <Text size="sm">{t("inbox.guest.noReservations")}</Text>}
      <List listStyleType="none" spacing={4}>
        {rows.map((r) => (
          <List.Item key={r.reservation_id}>
            <Badge variant="light" c="black" color={r.timing === "current" ? "teal" : r.timing === "upcoming" ? "blue" : "gray"} mr={6}>
              {t(`inbox.guest.timing_${r.timing}`)}
            </Badge>
            <Anchor component={Link} to={`/t/${c.tenant_id}/reservations/${r.reservation_id}`}>
              {r.pms_reservation_id}
            </Anchor>{" "}
            <Text span size="sm">
              {formatDate(r.arrival_date, i18n.language)} – {formatDate(r.departure_date, i18n.language)} · {r.property_name}
            </Text>
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}

function LinkGuest({ conversation: c }: { conversation: Conversation }) {
  const { t } = useTranslation();
  const [text, setText] = useState("");
  const found = useFindGuests(c.tenant_id, text);
  const link = useInboxMutation(c.tenant_id, (guestId: string) => linkGuest(c.id, guestId));
  const error = link.error instanceof UserFacingError ? link.error : link.error ? new UserFacingError("errors.unknown") : null;
  return (
    <Stack gap={4}>
      <Title order={3} size="h5">
        {t("inbox.guest.link")}
      </Title>
      <TextInput
        label={t("inbox.guest.findLabel")}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
      />
      {found.data && found.data.length === 0 && <Text size="sm">{t("inbox.guest.noneFound")}</Text>}
      <List listStyleType="none" spacing={4}>
        {(found.data ?? []).map((g) => (
          <List.Item key={g.id}>
            <Button
              size="compact-sm"
              variant="light"
              loading={link.isPending && link.variables === g.id}
              onClick={() => link.mutate(g.id)}
            >
              {t("inbox.guest.linkTo", { name: [g.full_name, g.phone_e164].filter(Boolean).join(" · ") })}
            </Button>
          </List.Item>
        ))}
      </List>
      {error && (
        <Alert color="red" role="alert" p="xs">
          {t(error.key, { detail: error.detail })}
        </Alert>
      )}
    </Stack>
  );
}
