import { Alert, Anchor, Button, Checkbox, Group, NativeSelect, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { StatusBadge } from "../../../components/ui/status-badge";
import { UserFacingError } from "../../../lib/errors";
import { useLiveQueries } from "../../../lib/live";
import { formatDateTime } from "../../../lib/time";
import { useMessagesNeedingAction, type ActionStatus } from "../api/get-messages-needing-action";
import { useResendMessage, type ResendOutcome } from "../api/resend-message";
import { useResendMessages } from "../api/resend-messages";

const FILTERS: Record<string, ActionStatus[]> = { all: ["failed", "dead"], failed: ["failed"], dead: ["dead"] };

interface Props {
  tenantId: string;
  timeZone: string;
  canResend: boolean;
}

export function MessagesNeedingAction({ tenantId, timeZone, canResend }: Props) {
  const { t, i18n } = useTranslation();
  // The filter is in the URL (?status=dead): Today and the alerts link here already filtered.
  const [params, setParams] = useSearchParams();
  const requested = params.get("status") ?? "all";
  const filter = Object.hasOwn(FILTERS, requested) ? requested : "all";
  const setFilter = (value: string) => setParams(value === "all" ? {} : { status: value }, { replace: true });
  const [selected, setSelected] = useState<Set<number>>(new Set());
  // The last single resend's result, kept above the list: a resent message leaves the list.
  const [notice, setNotice] = useState<{ text: string; ok: boolean } | null>(null);
  const messages = useMessagesNeedingAction(tenantId, FILTERS[filter] ?? ["failed", "dead"]);
  const resend = useResendMessage(tenantId);
  const bulk = useResendMessages(tenantId);
  // Failures appear and leave (resent elsewhere, retried by the worker) as they happen.
  const live = useLiveQueries(`needs-action:${tenantId}`, { table: "message_logs", filter: `tenant_id=eq.${tenantId}` }, [
    ["messages-needing-action", tenantId],
  ]);

  const describe = (o: ResendOutcome): { text: string; ok: boolean } => {
    if (o.kind === "queued") return { text: t("messages.queued"), ok: true };
    if (o.kind === "on_its_way") return { text: t("messages.alreadyOnItsWay"), ok: true };
    return { text: t("refusal.cannotResend", { reason: t(`refusal.${o.code}`, { defaultValue: o.code }) }), ok: false };
  };
  const resendOne = (id: number, label: string) =>
    resend.mutate(id, {
      onSuccess: (o) => {
        const said = describe(o);
        setNotice({ ...said, text: `${label}: ${said.text}` });
      },
      onError: (e) =>
        setNotice({ ok: false, text: `${label}: ${t(e instanceof UserFacingError ? e.key : "errors.unknown")}` }),
    });
  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <Stack>
      <Group gap="sm" align="baseline">
        <Title order={1}>{t("messages.title")}</Title>
        {live && <Text size="sm">{t("messages.live")}</Text>}
      </Group>
      <NativeSelect
        label={t("messages.filter")}
        value={filter}
        onChange={(e) => {
          setFilter(e.currentTarget.value);
          setSelected(new Set());
        }}
        data={[
          { value: "all", label: t("messages.all") },
          { value: "failed", label: t("messages.failed") },
          { value: "dead", label: t("messages.dead") },
        ]}
        maw={260}
      />
      {notice && (
        <Alert role="status" color={notice.ok ? "green" : "orange"} data-testid="resend-notice">
          <Text c="dark">{notice.text}</Text>
        </Alert>
      )}
      {bulk.data && (
        <Alert role="status" color={Object.keys(bulk.data.refused).length ? "orange" : "green"}>
          <Text>{t("messages.bulkResult", { taken: bulk.data.taken })}</Text>
          {Object.entries(bulk.data.refused).map(([code, count]) => (
            <Text key={code}>{t("messages.bulkRefused", { count, reason: t(`refusal.${code}`, { defaultValue: code }) })}</Text>
          ))}
        </Alert>
      )}
      {bulk.error && (
        <Alert color="red" role="alert">
          {t(bulk.error instanceof UserFacingError ? bulk.error.key : "errors.unknown")}
        </Alert>
      )}
      <QueryState query={messages}>
        {(rows) =>
          rows.length === 0 ? (
            <Text>{t("messages.none")}</Text>
          ) : (
            <>
              {canResend && (
                <Group>
                  <Button
                    disabled={selected.size === 0}
                    loading={bulk.isPending}
                    onClick={() =>
                      bulk.mutate([...selected], {
                        onSuccess: () => setSelected(new Set()),
                      })
                    }
                  >
                    {t("messages.resendSelected", { count: selected.size })}
                  </Button>
                </Group>
              )}
              <Table.ScrollContainer minWidth={720}>
                <Table striped>
                  <Table.Thead>
                    <Table.Tr>
                      {canResend && (
                        <Table.Th scope="col">
                          <Checkbox
                            aria-label={t("messages.selectAll")}
                            checked={selected.size > 0 && selected.size === rows.length}
                            indeterminate={selected.size > 0 && selected.size < rows.length}
                            onChange={(e) =>
                              setSelected(e.currentTarget.checked ? new Set(rows.map((r) => r.id)) : new Set())
                            }
                          />
                        </Table.Th>
                      )}
                      <Table.Th scope="col">{t("messages.template")}</Table.Th>
                      <Table.Th scope="col">{t("messages.guest")}</Table.Th>
                      <Table.Th scope="col">{t("reservations.status")}</Table.Th>
                      <Table.Th scope="col">{t("messages.when")}</Table.Th>
                      <Table.Th scope="col">{t("messages.error")}</Table.Th>
                      {canResend && <Table.Th scope="col">{t("messages.resend")}</Table.Th>}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((m) => {
                      const label = `${m.templateKey}${m.guestName ? ` (${m.guestName})` : ""}`;
                      return (
                        <Table.Tr key={m.id} data-testid={`action-${m.id}`}>
                          {canResend && (
                            <Table.Td>
                              <Checkbox
                                aria-label={t("messages.select", { id: m.id })}
                                checked={selected.has(m.id)}
                                onChange={() => toggle(m.id)}
                              />
                            </Table.Td>
                          )}
                          <Table.Td>{m.templateKey}</Table.Td>
                          <Table.Td>
                            {m.reservationId ? (
                              <Anchor component={Link} to={`/t/${tenantId}/reservations/${m.reservationId}`}>
                                {m.guestName ?? t("messages.open")}
                              </Anchor>
                            ) : (
                              (m.guestName ?? "")
                            )}
                          </Table.Td>
                          <Table.Td>
                            <StatusBadge status={m.status} />
                          </Table.Td>
                          <Table.Td>{formatDateTime(m.updatedAt, timeZone, i18n.language)}</Table.Td>
                          <Table.Td>{m.lastError}</Table.Td>
                          {canResend && (
                            <Table.Td>
                              <Button
                                size="compact-sm"
                                loading={resend.isPending && resend.variables === m.id}
                                onClick={() => resendOne(m.id, label)}
                                aria-label={`${t("messages.resend")}: ${label}`}
                              >
                                {t("messages.resend")}
                              </Button>
                            </Table.Td>
                          )}
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </>
          )
        }
      </QueryState>
    </Stack>
  );
}
