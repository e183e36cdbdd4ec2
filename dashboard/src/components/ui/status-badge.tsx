import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";

// Colours for a message's status; the word is always there too, colour is never the only cue.
const COLOURS: Record<string, string> = {
  scheduled: "gray",
  queued: "blue",
  sending: "blue",
  sent: "teal",
  delivered: "teal",
  read: "green",
  failed: "orange",
  dead: "red",
  cancelled: "gray",
  skipped: "gray",
};

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Badge color={COLOURS[status] ?? "gray"} variant="light" c="black">
      {t(`status.${status}`)}
    </Badge>
  );
}
