import { Badge, Table, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../../../lib/time";
import type { SyncJob } from "../api/get-sync-jobs";
import { syncErrorWords } from "../lib/event-error";

const COLOURS: Record<string, string> = {
  pending: "gray",
  running: "blue",
  succeeded: "green",
  failed: "red",
  cancelled: "gray",
};

export function SyncStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Badge color={COLOURS[status] ?? "gray"} variant="light" c="black">
      {t(`pms.syncStatus.${status}`)}
    </Badge>
  );
}

interface Props {
  jobs: SyncJob[];
  providers: Record<string, string>;
  timeZone: string;
}

export function SyncHistory({ jobs, providers, timeZone }: Props) {
  const { t, i18n } = useTranslation();
  if (jobs.length === 0) return <Text>{t("pms.noSyncs")}</Text>;
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{t("pms.requested")}</Table.Th>
            <Table.Th scope="col">{t("pms.connection")}</Table.Th>
            <Table.Th scope="col">{t("pms.syncKind")}</Table.Th>
            <Table.Th scope="col">{t("pms.trigger")}</Table.Th>
            <Table.Th scope="col">{t("pms.status")}</Table.Th>
            <Table.Th scope="col">{t("pms.result")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.map((j) => (
            <Table.Tr key={j.id} data-testid={`sync-${j.id}`}>
              <Table.Td>{formatDateTime(j.requestedAt, timeZone, i18n.language)}</Table.Td>
              <Table.Td>{providers[j.pmsConfigurationId] ?? ""}</Table.Td>
              <Table.Td>{t(`pms.kind.${j.kind}`)}</Table.Td>
              <Table.Td>{t(`pms.triggers.${j.trigger}`)}</Table.Td>
              <Table.Td>
                <SyncStatusBadge status={j.status} />
              </Table.Td>
              <Table.Td>
                {j.status === "succeeded" || j.status === "failed"
                  ? t("pms.counts", { created: j.created, updated: j.updated, unchanged: j.unchanged, failed: j.failed })
                  : ""}
                {j.error && (
                  <Text size="sm" c="gray.7">
                    {syncErrorWords(t, j.error)}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
