import { List, Text, ThemeIcon } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { StatusBadge } from "../../../components/ui/status-badge";
import { formatDateTime } from "../../../lib/time";
import type { TimelineEntry } from "../api/search-reservations";

// A message's ticks, as WhatsApp shows them: sent (one), delivered (two), read (two, coloured).
function ticks(m: TimelineEntry): string {
  if (m.read_at || m.status === "read") return "✓✓";
  if (m.delivered_at || m.status === "delivered") return "✓✓";
  if (m.sent_at || m.status === "sent") return "✓";
  return "";
}

export function MessageTimeline({ entries, timeZone }: { entries: TimelineEntry[]; timeZone: string }) {
  const { t, i18n } = useTranslation();
  if (entries.length === 0) return <Text>{t("reservations.noMessages")}</Text>;
  const at = (iso: string | null) => formatDateTime(iso, timeZone, i18n.language);
  return (
    <List listStyleType="none" spacing="md" aria-label={t("reservations.timeline")}>
      {entries.map((m) => (
        <List.Item key={m.id} data-testid={`message-${m.id}`}>
          <Text fw={600} span>
            {m.template_key}
          </Text>{" "}
          <StatusBadge status={m.status} />{" "}
          {ticks(m) && (
            <ThemeIcon
              component="span"
              variant="transparent"
              c={m.status === "read" ? "blue.9" : "dark"}
              role="img"
              aria-label={t(`status.${m.status}`)}
            >
              <span aria-hidden>{ticks(m)}</span>
            </ThemeIcon>
          )}
          <Text size="sm">
            {t("status.scheduled")}: {at(m.scheduled_for)}
            {m.sent_at && ` · ${t("status.sent")}: ${at(m.sent_at)}`}
            {m.delivered_at && ` · ${t("status.delivered")}: ${at(m.delivered_at)}`}
            {m.read_at && ` · ${t("status.read")}: ${at(m.read_at)}`}
          </Text>
          {m.last_error && (
            <Text size="sm" c="red.9">
              {m.last_error}
            </Text>
          )}
        </List.Item>
      ))}
    </List>
  );
}
