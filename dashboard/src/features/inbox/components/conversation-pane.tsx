import { Alert, Anchor, Badge, Button, Grid, Group, NativeSelect, Stack, Text, Title } from "@mantine/core";
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { UserFacingError } from "../../../lib/errors";
import { formatDateTime } from "../../../lib/time";
import { useAssignees } from "../api/assignees";
import { assign, setStatus, useInboxMutation, useMarkRead } from "../api/actions";
import { useConversation, useNotes, useThread } from "../api/get-conversation";
import { displayName, type Conversation, type Note, type ThreadMessage } from "../api/types";
import { GuestPanel } from "./guest-panel";
import { MessageItem, NoteItem } from "./message-item";
import { ReplyBox } from "./reply-box";

interface Props {
  tenantId: string;
  conversationId: string;
  userId: string;
  // The hotel's timezone, for a conversation without a property.
  hotelTimeZone: string;
}

export function ConversationPane({ tenantId, conversationId, userId, hotelTimeZone }: Props) {
  const { t } = useTranslation();
  const conversation = useConversation(tenantId, conversationId);
  return (
    <QueryState query={conversation}>
      {(c) =>
        c ? (
          <ConversationView conversation={c} userId={userId} timeZone={c.properties?.timezone ?? hotelTimeZone} />
        ) : (
          <Stack>
            <Text role="alert">{t("inbox.notFound")}</Text>
            <Anchor component={Link} to={`/t/${tenantId}/inbox`}>
              {t("inbox.back")}
            </Anchor>
          </Stack>
        )
      }
    </QueryState>
  );
}

type Entry = { at: string; message?: ThreadMessage; note?: Note };

function merged(messages: ThreadMessage[], notes: Note[]): Entry[] {
  const entries: Entry[] = [
    ...messages.map((m) => ({ at: m.sent_at, message: m })),
    ...notes.map((n) => ({ at: n.created_at, note: n })),
  ];
  // Stable: messages keep their (sent_at, id) order, notes fall in by time.
  return entries.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
}

function ConversationView({
  conversation: c,
  userId,
  timeZone,
}: {
  conversation: Conversation;
  userId: string;
  timeZone: string;
}) {
  const { t, i18n } = useTranslation();
  const thread = useThread(c.tenant_id, c.id);
  const notes = useNotes(c.tenant_id, c.id);
  const markRead = useMarkRead(c.tenant_id);
  const status = useInboxMutation(c.tenant_id, (s: "open" | "closed") => setStatus(c.id, s));
  const assignment = useInboxMutation(c.tenant_id, (to: string | null) => assign(c.id, to));
  const members = useAssignees(c.tenant_id).data ?? [];
  const readUpTo = useRef(0);
  const guest = c.guests;
  const optedOut = guest ? !guest.whatsapp_opt_in : false;

  // What this member has seen: the newest message, marked read once it is on the screen.
  const newest = thread.data?.at(-1)?.id ?? 0;
  useEffect(() => {
    if (newest > readUpTo.current) {
      readUpTo.current = newest;
      markRead.mutate(c.id);
    }
  }, [newest, c.id, markRead]);

  const actionError = [status.error, assignment.error].find(Boolean);
  const error = actionError instanceof UserFacingError ? actionError : actionError ? new UserFacingError("errors.unknown") : null;

  return (
    <Stack gap="sm">
      <Anchor component={Link} to={`/t/${c.tenant_id}/inbox`} hiddenFrom="md">
        {t("inbox.back")}
      </Anchor>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Stack gap={0}>
          <Title order={2} size="h3">
            {displayName(c)}
          </Title>
          <Text size="sm">
            {c.phone_e164 ?? c.chat_id}
            {!c.guest_id && ` · ${t("inbox.unknownNumber")}`}
          </Text>
        </Stack>
        <Group gap="xs" wrap="wrap">
          <Badge variant="light" c="black" color={c.status === "open" ? "blue" : "gray"}>
            {t(`inbox.status_${c.status}`)}
          </Badge>
          <NativeSelect
            size="xs"
            label={t("inbox.assignee")}
            value={c.assignee_id ?? ""}
            disabled={assignment.isPending}
            onChange={(e) => assignment.mutate(e.currentTarget.value || null)}
            data={[
              { value: "", label: t("inbox.notAssigned") },
              ...(c.assignee_id && !members.some((m) => m.user_id === c.assignee_id)
                ? [{ value: c.assignee_id, label: t("inbox.assignedToColleague") }]
                : []),
              ...members.map((m) => ({ value: m.user_id, label: m.is_me ? t("inbox.me", { email: m.email }) : m.email })),
            ]}
          />
          {c.assignee_id !== userId && (
            <Button size="compact-sm" variant="default" loading={assignment.isPending} onClick={() => assignment.mutate(userId)}>
              {t("inbox.assignToMe")}
            </Button>
          )}
          <Button
            size="compact-sm"
            variant="default"
            loading={status.isPending}
            onClick={() => status.mutate(c.status === "open" ? "closed" : "open")}
          >
            {c.status === "open" ? t("inbox.close") : t("inbox.reopen")}
          </Button>
        </Group>
      </Group>
      {error && (
        <Alert color="red" role="alert" p="xs">
          {t(error.key, { detail: error.detail })}
        </Alert>
      )}
      {optedOut && guest && (
        <Alert color="red" variant="light" data-testid="opted-out" p="xs">
          {t("inbox.optOut.banner")}{" "}
          {guest.opted_out_at && formatDateTime(guest.opted_out_at, timeZone, i18n.language)}
          {guest.opt_out_reason && ` · ${t("inbox.optOut.reasonWas", { reason: guest.opt_out_reason })}`}
        </Alert>
      )}
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack gap="sm">
            <QueryState query={thread}>
              {(messages) => (
                <Stack
                  component="ol"
                  aria-label={t("inbox.thread")}
                  // New messages are read out as they arrive.
                  aria-live="polite"
                  gap="xs"
                  p={0}
                  m={0}
                  style={{ listStyle: "none" }}
                >
                  {messages.length === 0 && (notes.data ?? []).length === 0 && (
                    <li>
                      <Text>{t("inbox.noMessages")}</Text>
                    </li>
                  )}
                  {merged(messages, notes.data ?? []).map((e) =>
                    e.message ? (
                      <MessageItem key={`m${e.message.id}`} tenantId={c.tenant_id} message={e.message} timeZone={timeZone} userId={userId} />
                    ) : e.note ? (
                      <NoteItem key={`n${e.note.id}`} note={e.note} timeZone={timeZone} userId={userId} />
                    ) : null,
                  )}
                </Stack>
              )}
            </QueryState>
            <ReplyBox
              tenantId={c.tenant_id}
              conversationId={c.id}
              suggestedLanguage={c.detected_language ?? guest?.language ?? null}
              detectedLanguage={c.detected_language}
              canReply={!!c.phone_e164}
            />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <GuestPanel conversation={c} timeZone={timeZone} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
