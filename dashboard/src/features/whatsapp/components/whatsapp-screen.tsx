import { Alert, Stack, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { QueryState } from "../../../components/ui/query-state";
import { useWhatsapp } from "../api/get-whatsapp";
import { PacingPanel } from "./pacing-panel";
import { SendingPanel } from "./sending-panel";
import { SessionPanel } from "./session-panel";

interface Props {
  tenantId: string;
  timeZone: string;
  // Owners and admins: connect, disconnect, pause, resume, pacing. The database and
  // waha-session check it; this only hides what would be refused.
  canManage: boolean;
}

export function WhatsappScreen({ tenantId, timeZone, canManage }: Props) {
  const { t } = useTranslation();
  const state = useWhatsapp(tenantId);
  return (
    <Stack maw={760}>
      <Title order={1}>{t("whatsapp.title")}</Title>
      {state.data === undefined ? (
        <QueryState query={state}>{() => null}</QueryState>
      ) : state.data === null ? (
        <Alert color="blue">{t("whatsapp.notConfigured")}</Alert>
      ) : (
        <>
          {/* A failed poll keeps what was shown (and what staff typed), and says it may be old. */}
          {state.isError && (
            <Alert color="orange" role="alert">
              {t("whatsapp.stale")}
            </Alert>
          )}
          <SessionPanel tenantId={tenantId} timeZone={timeZone} state={state.data} canManage={canManage} />
          <SendingPanel tenantId={tenantId} timeZone={timeZone} state={state.data} canManage={canManage} />
          <PacingPanel tenantId={tenantId} state={state.data} canManage={canManage} />
        </>
      )}
    </Stack>
  );
}
