import { Alert, Badge, Button, Checkbox, Group, NativeSelect, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../../../lib/time";
import { errorKey } from "../api/errors";
import type { EventProblem, FailedEvent } from "../api/get-failed-events";
import { useReplayEvent, useReplayEvents } from "../api/replay-events";
import { explainEventError } from "../lib/event-error";
import { ReplayedEvents } from "./replayed-events";

interface Props {
  tenantId: string;
  timeZone: string;
  events: FailedEvent[];
  canReplay: boolean;
}

// PMS webhook events that could not be processed, each with its error in words; dead-lettered
// ones are replayed one by one or many at once (owners and admins).
export function FailedEvents({ tenantId, timeZone, events, canReplay }: Props) {
  const { t, i18n } = useTranslation();
  const [filter, setFilter] = useState<"all" | EventProblem>("all");
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [notice, setNotice] = useState<{ text: string; ok: boolean } | null>(null);
  // Replayed from this page: followed until processed or failed again.
  const [replayed, setReplayed] = useState<number[]>([]);
  const follow = (ids: number[]) => setReplayed((r) => [...new Set([...ids, ...r])].slice(0, 50));
  const replay = useReplayEvent(tenantId);
  const bulk = useReplayEvents(tenantId);
  const shown = events.filter((e) => filter === "all" || e.problem === filter);
  const replayable = shown.filter((e) => e.problem === "dead");
  const when = (iso: string) => formatDateTime(iso, timeZone, i18n.language);

  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const replayOne = (e: FailedEvent) => {
    const label = `${e.eventType} #${e.id}`;
    replay.mutate(e.id, {
      onSuccess: (taken) => {
        setNotice({ ok: taken, text: `${label}: ${t(taken ? "pms.replayed" : "pms.notDead")}` });
        if (taken) follow([e.id]);
      },
      onError: (error) => {
        const { key, detail } = errorKey(error);
        setNotice({ ok: false, text: `${label}: ${t(key, { detail })}` });
      },
    });
  };
  const bulkError = bulk.error ? errorKey(bulk.error) : null;

  return (
    <Stack>
      <NativeSelect
        label={t("pms.eventFilter")}
        value={filter}
        onChange={(e) => {
          setFilter(e.currentTarget.value as "all" | EventProblem);
          setSelected(new Set());
        }}
        data={[
          { value: "all", label: t("pms.problems.all") },
          { value: "dead", label: t("pms.problems.dead") },
          { value: "retrying", label: t("pms.problems.retrying") },
        ]}
        maw={280}
      />
      {notice && (
        <Alert role="status" color={notice.ok ? "green" : "orange"} data-testid="replay-notice">
          <Text size="sm" c="dark">
            {notice.text}
          </Text>
        </Alert>
      )}
      {bulk.data && (
        <Alert role="status" color={Object.keys(bulk.data.refused).length ? "orange" : "green"} data-testid="replay-result">
          <Text size="sm" c="dark">
            {t("pms.bulkReplayed", { count: bulk.data.taken })}
          </Text>
          {Object.entries(bulk.data.refused).map(([code, count]) => (
            <Text size="sm" c="dark" key={code}>
              {t("pms.bulkRefused", { count, reason: t(`pms.refusal.${code}`, { defaultValue: code }) })}
            </Text>
          ))}
        </Alert>
      )}
      <ReplayedEvents tenantId={tenantId} ids={replayed} />
      {bulkError && (
        <Alert color="red" role="alert">
          {t(bulkError.key, { detail: bulkError.detail })}
        </Alert>
      )}
      {shown.length === 0 ? (
        <Text>{t("pms.noFailedEvents")}</Text>
      ) : (
        <>
          {canReplay && (
            <Group>
              <Button
                disabled={selected.size === 0}
                loading={bulk.isPending}
                onClick={() => {
                  setNotice(null);
                  const ids = [...selected];
                  bulk.mutate(ids, {
                    onSuccess: () => {
                      setSelected(new Set());
                      follow(ids);
                    },
                  });
                }}
              >
                {t("pms.replaySelected", { count: selected.size })}
              </Button>
            </Group>
          )}
          <Table.ScrollContainer minWidth={760}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  {canReplay && (
                    <Table.Th scope="col">
                      <Checkbox
                        aria-label={t("pms.selectAllDead")}
                        disabled={replayable.length === 0}
                        checked={selected.size > 0 && selected.size === replayable.length}
                        indeterminate={selected.size > 0 && selected.size < replayable.length}
                        onChange={(e) =>
                          setSelected(e.currentTarget.checked ? new Set(replayable.map((r) => r.id)) : new Set())
                        }
                      />
                    </Table.Th>
                  )}
                  <Table.Th scope="col">{t("pms.received")}</Table.Th>
                  <Table.Th scope="col">{t("pms.event")}</Table.Th>
                  <Table.Th scope="col">{t("pms.status")}</Table.Th>
                  <Table.Th scope="col">{t("pms.whatWentWrong")}</Table.Th>
                  {canReplay && <Table.Th scope="col">{t("pms.replay")}</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((e) => {
                  const explained = explainEventError(e.lastError);
                  const label = `${e.eventType} #${e.id}`;
                  return (
                    <Table.Tr key={e.id} data-testid={`event-${e.id}`}>
                      {canReplay && (
                        <Table.Td>
                          {e.problem === "dead" && (
                            <Checkbox
                              aria-label={t("pms.selectEvent", { label })}
                              checked={selected.has(e.id)}
                              onChange={() => toggle(e.id)}
                            />
                          )}
                        </Table.Td>
                      )}
                      <Table.Td>{when(e.receivedAt)}</Table.Td>
                      <Table.Td>
                        <Text size="sm">{e.eventType}</Text>
                        <Text size="xs" c="gray.7">
                          {t(`pms.provider.${e.provider}`, { defaultValue: e.provider })} · {e.eventId}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={e.problem === "dead" ? "red" : "orange"} variant="light" c="black">
                          {t(`pms.problems.${e.problem}`)}
                        </Badge>
                        <Text size="xs">{t("pms.attempts", { count: e.attempts })}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{t(explained.key, explained.values)}</Text>
                        {e.problem === "retrying" && (
                          <Text size="xs" c="gray.7">
                            {t("pms.nextAttempt", { at: when(e.nextAttemptAt) })}
                          </Text>
                        )}
                      </Table.Td>
                      {canReplay && (
                        <Table.Td>
                          {e.problem === "dead" && (
                            <Button
                              size="compact-sm"
                              loading={replay.isPending && replay.variables === e.id}
                              onClick={() => replayOne(e)}
                              aria-label={`${t("pms.replay")}: ${label}`}
                            >
                              {t("pms.replay")}
                            </Button>
                          )}
                        </Table.Td>
                      )}
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </>
      )}
    </Stack>
  );
}
