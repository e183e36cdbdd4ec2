import { Badge, Box, Group, Paper, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { StatusBadge } from "../../../components/ui/status-badge";
import { formatDateTime } from "../../../lib/time";
import type { Note, ThreadMessage } from "../api/types";
import { languageName } from "./format";
import { MediaView } from "./media-view";

// A sent message's ticks, as WhatsApp shows them: one when sent, two when delivered and read.
export function ticks(status: string | null): string {
  if (status === "read" || status === "delivered") return "✓✓";
  if (status === "sent") return "✓";
  return "";
}

interface Props {
  tenantId: string;
  message: ThreadMessage;
  timeZone: string;
  userId: string;
}

export function MessageItem({ tenantId, message: m, timeZone, userId }: Props) {
  const { t, i18n } = useTranslation();
  const inbound = m.direction === "inbound";
  const who =
    m.sender === "staff" && m.sent_by === userId ? t("inbox.sender.you") : t(`inbox.sender.${m.sender}`);
  const tick = ticks(m.delivery_status);
  return (
    <Box
      component="li"
      data-testid={`thread-message-${m.id}`}
      style={{ display: "flex", justifyContent: inbound ? "flex-start" : "flex-end" }}
    >
      <Paper
        withBorder
        p="xs"
        radius="md"
        maw="85%"
        bg={inbound ? "gray.0" : m.sender === "phone" ? "grape.0" : "teal.0"}
        style={{ minWidth: "12rem" }}
      >
        <Group gap="xs" justify="space-between" wrap="wrap">
          <Text size="sm" fw={700}>
            {who}
          </Text>
          <Text size="xs" c="dark.6" component="time" dateTime={m.sent_at}>
            {formatDateTime(m.sent_at, timeZone, i18n.language)}
          </Text>
        </Group>
        {m.media_kind && <MediaView tenantId={tenantId} message={m} />}
        {m.body && (
          <Text style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }} lang={inbound && m.language ? m.language : undefined}>
            {m.body}
          </Text>
        )}
        {m.consent_change && (
          <Badge color={m.consent_change === "opted_in" ? "green" : "red"} variant="light" c="black" mt={4}>
            {t(`inbox.consent.${m.consent_change}`)}
          </Badge>
        )}
        {m.opt_out_override_reason && (
          <Text size="sm" c="dark.6">
            {t("inbox.overrideReason", { reason: m.opt_out_override_reason })}
          </Text>
        )}
        {inbound && m.language && (
          <Text size="xs" c="dark.6">
            {t("inbox.writtenIn", { language: languageName(m.language, i18n.language) })}
          </Text>
        )}
        {m.delivery_status && (
          <Group gap={4} justify="flex-end" mt={4}>
            <StatusBadge status={m.delivery_status} />
            {tick && (
              <Text
                span
                fw={700}
                c={m.delivery_status === "read" ? "blue.9" : "dark"}
                role="img"
                aria-label={t(`status.${m.delivery_status}`)}
              >
                <span aria-hidden>{tick}</span>
              </Text>
            )}
          </Group>
        )}
        {m.last_error && (
          <Text size="sm" c="red.9">
            {m.last_error}
          </Text>
        )}
      </Paper>
    </Box>
  );
}

export function NoteItem({ note, timeZone, userId }: { note: Note; timeZone: string; userId: string }) {
  const { t, i18n } = useTranslation();
  return (
    <Box component="li" data-testid={`thread-note-${note.id}`} style={{ display: "flex", justifyContent: "center" }}>
      <Paper
        p="xs"
        radius="md"
        maw="90%"
        bg="yellow.1"
        style={{ border: "2px dashed var(--mantine-color-yellow-8)", minWidth: "12rem" }}
      >
        <Group gap="xs" justify="space-between" wrap="wrap">
          <Text size="sm" fw={700}>
            {t("inbox.note.label")} · {note.author_id === userId ? t("inbox.sender.you") : t("inbox.sender.staff")}
          </Text>
          <Text size="xs" c="dark.6" component="time" dateTime={note.created_at}>
            {formatDateTime(note.created_at, timeZone, i18n.language)}
          </Text>
        </Group>
        <Text size="xs" fs="italic">
          {t("inbox.note.onlyStaff")}
        </Text>
        <Text style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>{note.body}</Text>
      </Paper>
    </Box>
  );
}
