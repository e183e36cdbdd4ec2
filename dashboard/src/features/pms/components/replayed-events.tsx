import { List, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useReplayedEvents, type ReplayedEvent } from "../api/get-replayed-events";
import { explainEventError } from "../lib/event-error";

function Outcome({ event: e }: { event: ReplayedEvent }) {
  const { t } = useTranslation();
  if (e.status === "succeeded" || e.status === "ignored") return <>{t(`pms.outcome.${e.status}`)}</>;
  if (e.status === "dead") {
    const why = explainEventError(e.lastError);
    return <>{t("pms.outcome.dead", { reason: t(why.key, why.values) })}</>;
  }
  if (e.attempts > 0 && e.lastError) return <>{t("pms.outcome.retrying")}</>;
  return <>{t("pms.outcome.waiting")}</>;
}

// The events replayed from this page, and what came of each, as the worker gets to them.
export function ReplayedEvents({ tenantId, ids }: { tenantId: string; ids: number[] }) {
  const { t } = useTranslation();
  const replayed = useReplayedEvents(tenantId, ids);
  if (ids.length === 0 || !replayed.data) return null;
  return (
    <Stack gap="xs" data-testid="replayed-events">
      <Title order={3} size="h4">
        {t("pms.replayedTitle")}
      </Title>
      <List listStyleType="none" spacing={4} aria-live="polite">
        {replayed.data.map((e) => (
          <List.Item key={e.id}>
            <Text size="sm">
              {e.eventType} #{e.id}: <Outcome event={e} />
            </Text>
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}
