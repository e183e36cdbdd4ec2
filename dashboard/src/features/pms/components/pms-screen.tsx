import { Card, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { QueryState } from "../../../components/ui/query-state";
import { useConnections } from "../api/get-connections";
import { useFailedEvents } from "../api/get-failed-events";
import { useSyncJobs } from "../api/get-sync-jobs";
import { AddConnection } from "./add-connection";
import { ConnectionCard } from "./connection-card";
import { FailedEvents } from "./failed-events";
import { SyncHistory } from "./sync-history";

interface Props {
  tenantId: string;
  timeZone: string;
  // Owners and admins: sync, secrets and replays. Front desk reads the health and the history.
  canManage: boolean;
}

export function PmsScreen({ tenantId, timeZone, canManage }: Props) {
  const { t } = useTranslation();
  const connections = useConnections(tenantId);
  const jobs = useSyncJobs(tenantId);
  const events = useFailedEvents(tenantId);
  // A secret just generated, per connection: only in this page's memory, never readable again.
  const [secrets, setSecrets] = useState<Record<string, string | null>>({});
  const providers = Object.fromEntries(
    (connections.data?.connections ?? []).map((c) => [c.id, t(`pms.provider.${c.provider}`, { defaultValue: c.provider })]),
  );

  return (
    <Stack>
      <Title order={1}>{t("pms.title")}</Title>
      <QueryState query={connections}>
        {({ webhookKey, connections: list }) => (
          <>
            {list.length === 0 && <Text>{t(canManage ? "pms.noConnectionsManage" : "pms.noConnections")}</Text>}
            {list.map((c) => (
              <ConnectionCard
                key={c.id}
                tenantId={tenantId}
                timeZone={timeZone}
                webhookKey={webhookKey}
                connection={c}
                jobs={jobs.data ?? []}
                canManage={canManage}
                secret={secrets[c.id] ?? null}
                onSecret={(secret) => setSecrets((s) => ({ ...s, [c.id]: secret }))}
              />
            ))}
            {canManage && <AddConnection tenantId={tenantId} taken={list.map((c) => c.provider)} />}
          </>
        )}
      </QueryState>
      <Card withBorder component="section" aria-labelledby="pms-history">
        <Stack>
          <Title order={2} size="h3" id="pms-history">
            {t("pms.history")}
          </Title>
          <QueryState query={jobs}>
            {(list) => <SyncHistory jobs={list} providers={providers} timeZone={timeZone} />}
          </QueryState>
        </Stack>
      </Card>
      <Card withBorder component="section" aria-labelledby="pms-events">
        <Stack>
          <Title order={2} size="h3" id="pms-events">
            {t("pms.failedEvents")}
          </Title>
          <QueryState query={events}>
            {(list) => <FailedEvents tenantId={tenantId} timeZone={timeZone} events={list} canReplay={canManage} />}
          </QueryState>
        </Stack>
      </Card>
    </Stack>
  );
}
