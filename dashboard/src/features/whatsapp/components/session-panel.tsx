import { Alert, Badge, Button, Card, Group, Image, List, Loader, Modal, Stack, Text, Title } from "@mantine/core";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";
import { formatDateTime } from "../../../lib/time";
import type { WhatsappState } from "../api/get-whatsapp";
import { useLiveSession, useQrCode, useSessionAction } from "../api/waha-session";

const COLOURS: Record<string, string> = {
  WORKING: "green",
  SCAN_QR_CODE: "yellow",
  STARTING: "blue",
  STOPPED: "gray",
  FAILED: "red",
};

interface Props {
  tenantId: string;
  timeZone: string;
  state: WhatsappState;
  canManage: boolean;
}

const errorKey = (e: unknown) => (e instanceof UserFacingError ? e.key : "errors.unknown");

// The session: its status (live from WAHA for owners and admins, else as last recorded), the
// linked number, the QR code to scan while WAHA waits for one, and connect / disconnect.
export function SessionPanel({ tenantId, timeZone, state, canManage }: Props) {
  const { t, i18n } = useTranslation();
  const headingId = useId();
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const live = useLiveSession(tenantId, canManage);
  const status = live.data?.session.status ?? state.status;
  const phone = live.data?.session.phone ?? null;
  const waiting = canManage && status === "SCAN_QR_CODE";
  const qr = useQrCode(tenantId, waiting);
  const qrImage = qr.data ?? live.data?.qr ?? null;
  const action = useSessionAction(tenantId);

  const run = (which: "start" | "restart" | "logout") => {
    setDone(null);
    action.mutate(which, {
      onSuccess: () => {
        setConfirming(false);
        setDone(t(`whatsapp.session.done_${which}`));
      },
      onError: () => setConfirming(false),
    });
  };

  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap="sm">
        <Title order={2} id={headingId} size="h3">
          {t("whatsapp.session.title")}
        </Title>
        <Group gap="xs">
          <Text>{t("whatsapp.session.status")}</Text>
          <Badge color={COLOURS[status] ?? "gray"} variant="light" c="black" data-testid="session-status">
            {t(`health.${status}`, { defaultValue: t("health.unknown") })}
          </Badge>
          {canManage && live.isFetching && <Loader size="xs" aria-label={t("whatsapp.session.checking")} />}
        </Group>
        <Text size="sm">
          {t("whatsapp.session.changedAt", { when: formatDateTime(state.statusChangedAt, timeZone, i18n.language) })}
        </Text>
        {status === "WORKING" && phone && <Text>{t("whatsapp.session.number", { phone })}</Text>}
        {!canManage && <Text size="sm">{t("whatsapp.session.managersOnly")}</Text>}
        {live.isError && (
          <Alert color="red" role="alert">
            {t(errorKey(live.error))}
          </Alert>
        )}
        {action.isError && (
          <Alert color="red" role="alert">
            {t(errorKey(action.error))}
          </Alert>
        )}
        {done && (
          <Alert color="green" role="status">
            <Text c="dark">{done}</Text>
          </Alert>
        )}

        {waiting && (
          <Stack gap="xs">
            <Text fw={600}>{t("whatsapp.qr.title")}</Text>
            <List type="ordered" size="sm">
              <List.Item>{t("whatsapp.qr.step1")}</List.Item>
              <List.Item>{t("whatsapp.qr.step2")}</List.Item>
              <List.Item>{t("whatsapp.qr.step3")}</List.Item>
            </List>
            {qrImage ? (
              <Image
                src={`data:${qrImage.mimetype};base64,${qrImage.data}`}
                alt={t("whatsapp.qr.alt")}
                w={264}
                h={264}
                fit="contain"
                bg="white"
              />
            ) : qr.isError ? (
              <Alert color="red" role="alert">
                {t(errorKey(qr.error))}
              </Alert>
            ) : (
              <Group role="status" gap="xs">
                <Loader size="sm" aria-hidden />
                {t("whatsapp.qr.loading")}
              </Group>
            )}
            <Text size="sm">{t("whatsapp.qr.renews")}</Text>
          </Stack>
        )}

        {canManage && (
          <Group>
            {(status === "STOPPED" || status === "FAILED") && (
              <Button loading={action.isPending && action.variables === "start"} onClick={() => run("start")}>
                {t("whatsapp.session.connect")}
              </Button>
            )}
            {status === "FAILED" && (
              <Button
                variant="default"
                loading={action.isPending && action.variables === "restart"}
                onClick={() => run("restart")}
              >
                {t("whatsapp.session.restart")}
              </Button>
            )}
            {status === "WORKING" && (
              <Button color="red" variant="outline" onClick={() => setConfirming(true)}>
                {t("whatsapp.session.disconnect")}
              </Button>
            )}
          </Group>
        )}
      </Stack>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={t("whatsapp.session.confirmTitle")}>
        <Stack>
          <Text>{t("whatsapp.session.confirmText")}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              {t("whatsapp.cancel")}
            </Button>
            <Button color="red" loading={action.isPending} onClick={() => run("logout")}>
              {t("whatsapp.session.confirmDisconnect")}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}
