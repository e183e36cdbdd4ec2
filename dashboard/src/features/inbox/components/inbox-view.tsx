import { Badge, Grid, Group, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { InboxFilters } from "../api/list-conversations";
import { useProperties } from "../api/properties";
import { totalUnread, useUnreadCounts } from "../api/unread-counts";
import { useLiveInbox } from "../hooks/use-live-inbox";
import { ConversationList } from "./conversation-list";
import { ConversationPane } from "./conversation-pane";

interface Props {
  tenantId: string;
  userId: string;
  conversationId: string | null;
  timeZone: string;
}

// The hotel's guest conversations: the list beside the open thread (on a phone, one at a time).
export function InboxView({ tenantId, userId, conversationId, timeZone }: Props) {
  const { t } = useTranslation();
  const live = useLiveInbox(tenantId);
  const counts = useUnreadCounts(tenantId);
  const properties = useProperties(tenantId).data ?? [];
  const [filters, setFilters] = useState<InboxFilters>({ status: "open", assignee: "all", search: "", propertyId: "" });
  const total = totalUnread(counts.data);
  const perProperty = (counts.data ?? []).filter((c) => c.unread_conversations > 0);

  return (
    <Stack gap="sm">
      <Group gap="sm" wrap="wrap">
        <Title order={1}>{t("inbox.title")}</Title>
        <Text data-testid="inbox-unread">{t("inbox.unreadTotal", { count: total })}</Text>
        {properties.length > 1 &&
          perProperty.map((c) => (
            <Badge key={c.property_id ?? "none"} variant="light" c="black">
              {t("inbox.unreadIn", {
                count: c.unread_conversations,
                place: properties.find((p) => p.id === c.property_id)?.name ?? t("inbox.noProperty"),
              })}
            </Badge>
          ))}
        {live && (
          <Text size="sm" c="dark.6">
            {t("inbox.live")}
          </Text>
        )}
      </Group>
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 4 }} display={conversationId ? { base: "none", md: "block" } : undefined}>
          <ConversationList
            tenantId={tenantId}
            userId={userId}
            selectedId={conversationId}
            timeZone={timeZone}
            filters={filters}
            onFilters={setFilters}
            properties={properties}
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          {conversationId ? (
            <ConversationPane
              tenantId={tenantId}
              conversationId={conversationId}
              userId={userId}
              hotelTimeZone={timeZone}
            />
          ) : (
            <Text visibleFrom="md">{t("inbox.pick")}</Text>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
