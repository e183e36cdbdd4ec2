import { Anchor, Button, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { StatusBadge } from "../../../components/ui/status-badge";
import { formatDate } from "../../../lib/time";
import { useSearchReservations } from "../api/search-reservations";

// The search lives in the URL (?q=&from=&to=&page=), so a result can be reloaded and shared.
export function ReservationsList({ tenantId }: { tenantId: string }) {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const query = params.get("q") ?? "";
  const arrivalFrom = params.get("from") ?? "";
  const arrivalTo = params.get("to") ?? "";
  const page = Math.max(0, Number(params.get("page") ?? "0") || 0);
  const [draft, setDraft] = useState({ query, arrivalFrom, arrivalTo });
  const result = useSearchReservations({ tenantId, query, arrivalFrom, arrivalTo, page });

  const go = (next: { query: string; arrivalFrom: string; arrivalTo: string; page: number }) => {
    const p = new URLSearchParams();
    if (next.query.trim()) p.set("q", next.query.trim());
    if (next.arrivalFrom) p.set("from", next.arrivalFrom);
    if (next.arrivalTo) p.set("to", next.arrivalTo);
    if (next.page > 0) p.set("page", String(next.page));
    setParams(p);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go({ ...draft, page: 0 });
  };
  const base = `/t/${tenantId}`;

  return (
    <Stack>
      <Title order={1}>{t("reservations.title")}</Title>
      <form onSubmit={submit} role="search">
        <Group align="end">
          <TextInput
            label={t("reservations.search")}
            type="search"
            value={draft.query}
            onChange={(e) => setDraft({ ...draft, query: e.currentTarget.value })}
          />
          <TextInput
            label={t("reservations.arrivalFrom")}
            type="date"
            value={draft.arrivalFrom}
            onChange={(e) => setDraft({ ...draft, arrivalFrom: e.currentTarget.value })}
          />
          <TextInput
            label={t("reservations.arrivalTo")}
            type="date"
            value={draft.arrivalTo}
            onChange={(e) => setDraft({ ...draft, arrivalTo: e.currentTarget.value })}
          />
          <Button type="submit">{t("reservations.searchButton")}</Button>
        </Group>
      </form>
      <QueryState query={result}>
        {({ rows, hasNext }) => (
          <>
            {rows.length === 0 ? (
              <Text>{t("reservations.none")}</Text>
            ) : (
              <Table.ScrollContainer minWidth={640}>
                <Table striped>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t("reservations.guest")}</Table.Th>
                      <Table.Th scope="col">{t("reservations.pmsId")}</Table.Th>
                      <Table.Th scope="col">{t("reservations.stay")}</Table.Th>
                      <Table.Th scope="col">{t("reservations.status")}</Table.Th>
                      <Table.Th scope="col">{t("reservations.messages")}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((r) => {
                      const last = r.messages[r.messages.length - 1];
                      return (
                        <Table.Tr key={r.reservation_id}>
                          <Table.Td>
                            <Anchor component={Link} to={`${base}/reservations/${r.reservation_id}`}>
                              {r.guest_name ?? r.pms_reservation_id}
                            </Anchor>
                            {r.guest_phone && <Text size="sm">{r.guest_phone}</Text>}
                          </Table.Td>
                          <Table.Td>{r.pms_reservation_id}</Table.Td>
                          <Table.Td>
                            {t("reservations.nights", {
                              from: formatDate(r.arrival_date, i18n.language),
                              to: formatDate(r.departure_date, i18n.language),
                            })}
                          </Table.Td>
                          <Table.Td>{t(`reservations.rstatus_${r.status}`)}</Table.Td>
                          <Table.Td>
                            {r.messages.length} {last && <StatusBadge status={last.status} />}
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
            <Group component="nav" aria-label={t("reservations.page", { page: page + 1 })}>
              <Button
                variant="default"
                disabled={page === 0}
                onClick={() => go({ query, arrivalFrom, arrivalTo, page: page - 1 })}
              >
                {t("reservations.previous")}
              </Button>
              <Text>{t("reservations.page", { page: page + 1 })}</Text>
              <Button variant="default" disabled={!hasNext} onClick={() => go({ query, arrivalFrom, arrivalTo, page: page + 1 })}>
                {t("reservations.next")}
              </Button>
            </Group>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
