import { Alert, Button, Group, Loader, NativeSelect, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../../../lib/time";
import { errorKey } from "../api/errors";
import type { PmsConnection } from "../api/get-connections";
import type { SyncJob } from "../api/get-sync-jobs";
import { useRequestSync, type ManualSyncKind } from "../api/request-sync";
import { syncErrorWords } from "../lib/event-error";

interface Props {
  tenantId: string;
  timeZone: string;
  connection: PmsConnection;
  jobs: SyncJob[];
}

// "Sync now", and how the requested sync goes: waiting, running, then its result.
export function SyncNow({ tenantId, timeZone, connection, jobs }: Props) {
  const { t, i18n } = useTranslation();
  const [kind, setKind] = useState<ManualSyncKind>("incremental");
  const [jobId, setJobId] = useState<string | null>(null);
  const request = useRequestSync(tenantId);
  const job = jobId ? jobs.find((j) => j.id === jobId) : undefined;
  const failure = request.error ? errorKey(request.error) : null;
  const busy = request.isPending || job?.status === "pending" || job?.status === "running";

  return (
    <Stack gap="sm">
      <Title order={3} size="h4">
        {t("pms.syncNowTitle")}
      </Title>
      <Group align="end" gap="xs">
        <NativeSelect
          label={t("pms.syncKind")}
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as ManualSyncKind)}
          data={[
            { value: "incremental", label: t("pms.kind.incremental") },
            { value: "full", label: t("pms.kind.full") },
          ]}
        />
        <Button
          loading={busy}
          onClick={() =>
            request.mutate({ configurationId: connection.id, kind }, { onSuccess: (id) => setJobId(id) })
          }
        >
          {t("pms.syncNow")}
        </Button>
      </Group>
      <div role="status" aria-live="polite" data-testid="sync-progress">
        {jobId && !job && <Text size="sm">{t("pms.progress.requested")}</Text>}
        {job?.status === "pending" && (
          <Group gap="xs">
            <Loader size="xs" aria-hidden />
            <Text size="sm">{t("pms.progress.pending")}</Text>
          </Group>
        )}
        {job?.status === "running" && (
          <Group gap="xs">
            <Loader size="xs" aria-hidden />
            <Text size="sm">
              {t("pms.progress.running", { at: formatDateTime(job.startedAt, timeZone, i18n.language) })}
            </Text>
          </Group>
        )}
        {job?.status === "succeeded" && (
          <Alert color={job.failed ? "orange" : "green"}>
            <Text size="sm" c="dark">
              {t("pms.progress.succeeded", {
                created: job.created,
                updated: job.updated,
                unchanged: job.unchanged,
              })}
              {job.failed ? ` ${t("pms.progress.notStored", { count: job.failed })}` : ""}
            </Text>
            {job.error && (
              <Text size="sm" c="dark">
                {syncErrorWords(t, job.error)}
              </Text>
            )}
          </Alert>
        )}
        {(job?.status === "failed" || job?.status === "cancelled") && (
          <Alert color="red">
            <Text size="sm" c="dark">
              {t("pms.progress.failed", { error: job.error ? syncErrorWords(t, job.error) : t("pms.noReason") })}
            </Text>
          </Alert>
        )}
      </div>
      {failure && (
        <Alert color="red" role="alert">
          {t(failure.key, { detail: failure.detail })}
        </Alert>
      )}
    </Stack>
  );
}
