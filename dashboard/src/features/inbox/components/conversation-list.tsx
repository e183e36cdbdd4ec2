import { Badge, Box, Button, Group, NativeSelect, SegmentedControl, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { formatDateTime } from "../../../lib/time";
import { useConversations, type InboxFilters } from "../api/list-conversations";
import type { Property } from "../api/properties";
import { displayName, type ConversationSummary } from "../api/types";

interface Props {
  tenantId: string;
  userId: string;
  selectedId: string | null;
  timeZone: string;
  filters: InboxFilters;
  onFilters: (filters: InboxFilters) => void;
  properties: Property[];
}

export function ConversationList({ tenantId, userId, selectedId, timeZone, filters, onFilters, properties }: Props) {
  const { t } = useTranslation();
  const [search, setSearch] = useState(filters.search);
  const conversations = useConversations(tenantId, userId, filters);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onFilters({ ...filters, search });
  };

  return (
    <Stack gap="xs" component="section" aria-labelledby="conversations-heading">
      <Text id="conversations-heading" component="h2" fw={700} size="lg" m={0}>
        {t("inbox.conversations")}
      </Text>
      <SegmentedControl
        aria-label={t("inbox.filter.status")}
        value={filters.status}
        onChange={(v) => onFilters({ ...filters, status: v as InboxFilters["status"] })}
        data={[
          { value: "open", label: t("inbox.filter.open") },
          { value: "closed", label: t("inbox.filter.closed") },
        ]}
      />
      <NativeSelect
        label={t("inbox.filter.assignee")}
        value={filters.assignee}
        onChange={(e) => onFilters({ ...filters, assignee: e.currentTarget.value as InboxFilters["assignee"] })}
        data={[
          { value: "all", label: t("inbox.filter.everyone") },
          { value: "me", label: t("inbox.filter.me") },
          { value: "unassigned", label: t("inbox.filter.unassigned") },
        ]}
      />
      {properties.length > 1 && (
        <NativeSelect
          label={t("inbox.filter.property")}
          value={filters.propertyId}
          onChange={(e) => onFilters({ ...filters, propertyId: e.currentTarget.value })}
          data={[
            { value: "", label: t("inbox.filter.allProperties") },
            ...properties.map((p) => ({ value: p.id, label: p.name })),
          ]}
        />
      )}
      <form onSubmit={submit} role="search">
        <Group gap="xs" align="flex-end" wrap="nowrap">
          <TextInput
            style={{ flex: 1 }}
            label={t("inbox.filter.search")}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
          />
          <Button type="submit" variant="default">
            {t("inbox.filter.searchButton")}
          </Button>
        </Group>
      </form>
      <QueryState query={conversations}>
        {(rows) =>
          rows.length === 0 ? (
            <Text>{filters.search.trim() ? t("inbox.noneFound") : t("inbox.none")}</Text>
          ) : (
            <Box component="ul" aria-label={t("inbox.conversations")} p={0} m={0} style={{ listStyle: "none" }}>
              {rows.map((c) => (
                <ConversationRow
                  key={c.id}
                  tenantId={tenantId}
                  conversation={c}
                  selected={c.id === selectedId}
                  timeZone={timeZone}
                  userId={userId}
                />
              ))}
            </Box>
          )
        }
      </QueryState>
    </Stack>
  );
}

function ConversationRow({
  tenantId,
  conversation: c,
  selected,
  timeZone,
  userId,
}: {
  tenantId: string;
  conversation: ConversationSummary;
  selected: boolean;
  timeZone: string;
  userId: string;
}) {
  const { t, i18n } = useTranslation();
  const unread = c.unread_count > 0;
  const name = displayName(c);
  return (
    <li>
      <UnstyledButton
        component={Link}
        to={`/t/${tenantId}/inbox/${c.id}`}
        aria-current={selected ? "page" : undefined}
        data-testid={`conversation-${c.id}`}
        display="block"
        w="100%"
        p="xs"
        style={{
          borderRadius: 6,
          borderLeft: `4px solid ${unread ? "var(--mantine-color-blue-8)" : "transparent"}`,
          background: selected ? "var(--mantine-color-blue-0)" : undefined,
        }}
      >
        <Group justify="space-between" wrap="nowrap" gap="xs">
          <Text fw={unread ? 800 : 500} truncate>
            {name}
          </Text>
          <Text size="xs" c="dark.6" style={{ whiteSpace: "nowrap" }}>
            {formatDateTime(c.last_message_at, timeZone, i18n.language)}
          </Text>
        </Group>
        <Text size="sm" c="dark.7" lineClamp={1}>
          {c.last_message_preview ?? ""}
        </Text>
        <Group gap={4} mt={2}>
          {unread && (
            <Badge color="blue.8" size="sm">
              {t("inbox.unread", { count: c.unread_count })}
            </Badge>
          )}
          {!c.guest_id && (
            <Badge color="orange" variant="light" c="black" size="sm">
              {t("inbox.unknownNumber")}
            </Badge>
          )}
          {c.guest_opted_out && (
            <Badge color="red" variant="light" c="black" size="sm">
              {t("inbox.guest.optedOut")}
            </Badge>
          )}
          {c.assignee_id === userId && (
            <Badge color="gray" variant="light" c="black" size="sm">
              {t("inbox.assignedToYou")}
            </Badge>
          )}
        </Group>
      </UnstyledButton>
    </li>
  );
}
