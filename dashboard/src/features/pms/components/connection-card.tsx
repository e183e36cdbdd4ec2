import {
  Alert,
  Badge,
  Button,
  Card,
  CopyButton,
  Group,
  PasswordInput,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { env } from "../../../lib/env";
import { formatDateTime } from "../../../lib/time";
import { errorKey } from "../api/errors";
import type { PmsConnection } from "../api/get-connections";
import { useRotateWebhookSecret, useSetWebhookSecret } from "../api/webhook-secret";
import { webhookUrl, webhookUrlWithSecret } from "../lib/webhook-url";
import { CredentialsForm } from "./credentials-form";
import { SyncNow } from "./sync-now";
import type { SyncJob } from "../api/get-sync-jobs";
import { syncErrorWords } from "../lib/event-error";

const HEALTH_COLOURS: Record<string, string> = { ok: "green", failing: "red", unknown: "gray" };

function Copyable({ label, value }: { label: string; value: string }) {
  const { t } = useTranslation();
  return (
    <Group align="end" gap="xs" wrap="nowrap">
      <TextInput label={label} value={value} readOnly style={{ flex: 1 }} onFocus={(e) => e.currentTarget.select()} />
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button variant={copied ? "filled" : "default"} onClick={copy} aria-label={`${t("pms.copy")}: ${label}`}>
            {copied ? t("pms.copied") : t("pms.copy")}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

// Alert titles in the text colour: the alert colours' own are too faint to read (axe).
function AlertTitle({ children }: { children: ReactNode }) {
  return (
    <Text span fw={700} c="dark">
      {children}
    </Text>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="sm" fw={600}>
        {label}
      </Text>
      <Text size="sm">{children}</Text>
    </div>
  );
}

interface Props {
  tenantId: string;
  timeZone: string;
  webhookKey: string;
  connection: PmsConnection;
  jobs: SyncJob[];
  canManage: boolean;
  // A secret just generated, until the user says it is copied (kept above the card's query).
  secret: string | null;
  onSecret: (secret: string | null) => void;
}

export function ConnectionCard({
  tenantId,
  timeZone,
  webhookKey,
  connection: c,
  jobs,
  canManage,
  secret,
  onSecret,
}: Props) {
  const { t, i18n } = useTranslation();
  const when = (iso: string | null) => (iso ? formatDateTime(iso, timeZone, i18n.language) : t("pms.never"));
  const lastSync = jobs.find((j) => j.pmsConfigurationId === c.id && j.kind !== "reservation");
  const provider = t(`pms.provider.${c.provider}`, { defaultValue: c.provider });
  const headingId = `pms-${c.id}`;

  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h3" id={headingId}>
            {provider}
          </Title>
          <Group gap="xs">
            {!c.isActive && (
              <Badge color="gray" variant="light" c="black">
                {t("pms.inactive")}
              </Badge>
            )}
            <Badge color={HEALTH_COLOURS[c.health] ?? "gray"} variant="light" c="black" data-testid="pms-health">
              {t(`health.${c.health}`)}
            </Badge>
          </Group>
        </Group>
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
          <Fact label={t("pms.lastSuccess")}>{when(c.lastSuccessAt)}</Fact>
          <Fact label={t("pms.lastEvent")}>{when(c.lastEventAt)}</Fact>
          <Fact label={t("pms.lastSync")}>
            {lastSync
              ? `${t(`pms.syncStatus.${lastSync.status}`)} · ${when(lastSync.finishedAt ?? lastSync.requestedAt)}`
              : t("pms.never")}
          </Fact>
          <Fact label={t("pms.secret")}>
            {c.webhookSecretSetAt ? t("pms.secretSetAt", { at: when(c.webhookSecretSetAt) }) : t("pms.secretNotSet")}
          </Fact>
        </SimpleGrid>
        {c.health === "failing" && c.lastError && (
          <Alert color="red" title={<AlertTitle>{t("pms.failing", { count: c.consecutiveFailures })}</AlertTitle>}>
            <Text size="sm">{t("pms.lastErrorAt", { at: when(c.lastErrorAt), error: syncErrorWords(t, c.lastError) })}</Text>
          </Alert>
        )}
        {c.syncPausedReason && (
          <Alert color="orange" title={<AlertTitle>{t("pms.paused")}</AlertTitle>}>
            <Text size="sm">{t("pms.pausedReason", { reason: c.syncPausedReason })}</Text>
          </Alert>
        )}
        {!c.credentialsSetAt && !canManage && (
          <Text size="sm" c="gray.7">
            {t("pms.noCredentials")}
          </Text>
        )}
        {canManage && (
          <>
            <SyncNow tenantId={tenantId} timeZone={timeZone} connection={c} jobs={jobs} />
            <CredentialsForm tenantId={tenantId} timeZone={timeZone} connection={c} />
            <WebhookSettings
              tenantId={tenantId}
              webhookKey={webhookKey}
              connection={c}
              provider={provider}
              secret={secret}
              onSecret={onSecret}
            />
          </>
        )}
      </Stack>
    </Card>
  );
}

function WebhookSettings({
  tenantId,
  webhookKey,
  connection: c,
  provider,
  secret,
  onSecret: setSecret,
}: {
  tenantId: string;
  webhookKey: string;
  connection: PmsConnection;
  provider: string;
  secret: string | null;
  onSecret: (secret: string | null) => void;
}) {
  const { t } = useTranslation();
  const url = webhookUrl(env.supabaseUrl, c.provider, webhookKey);
  const rotate = useRotateWebhookSecret(tenantId);
  const save = useSetWebhookSecret(tenantId);
  const [typed, setTyped] = useState("");
  const [saved, setSaved] = useState(false);
  const urlWithSecret = secret ? webhookUrlWithSecret(url, c.authScheme, secret) : null;
  const rotateError = rotate.error ? errorKey(rotate.error) : null;
  const saveError = save.error ? errorKey(save.error) : null;

  return (
    <Stack gap="sm">
      <Title order={3} size="h4">
        {t("pms.webhook")}
      </Title>
      <Text size="sm">{t(`pms.webhookHelp.${c.authScheme}`)}</Text>
      <Copyable label={t("pms.webhookUrl", { provider })} value={url} />
      {secret ? (
        <Alert color="yellow" title={<AlertTitle>{t("pms.newSecretTitle")}</AlertTitle>} data-testid="new-secret">
          <Stack gap="xs">
            <Text size="sm" c="dark">
              {t("pms.newSecretWarning")}
            </Text>
            <Copyable label={t("pms.newSecret")} value={secret} />
            {urlWithSecret && <Copyable label={t("pms.webhookUrlWithSecret")} value={urlWithSecret} />}
            <Group>
              <Button variant="default" onClick={() => setSecret(null)}>
                {t("pms.secretCopied")}
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : (
        <Group>
          <Button
            variant="default"
            loading={rotate.isPending}
            onClick={() => {
              setSaved(false);
              rotate.mutate(c.id, { onSuccess: setSecret });
            }}
          >
            {c.webhookSecretSetAt ? t("pms.rotateSecret") : t("pms.generateSecret")}
          </Button>
        </Group>
      )}
      {rotateError && (
        <Alert color="red" role="alert">
          {t(rotateError.key, { detail: rotateError.detail })}
        </Alert>
      )}
      <Text size="sm">{t("pms.pmsSecretHelp")}</Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          save.mutate(
            { configurationId: c.id, secret: typed },
            {
              onSuccess: () => {
                setTyped("");
                setSaved(true);
              },
            },
          );
        }}
      >
        <Group align="end" gap="xs">
          <PasswordInput
            label={t("pms.pmsSecret")}
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            autoComplete="off"
            style={{ flex: 1, minWidth: 220 }}
          />
          <Button type="submit" variant="default" loading={save.isPending} disabled={!typed.trim()}>
            {t("pms.saveSecret")}
          </Button>
        </Group>
      </form>
      {saved && (
        <Alert color="green" role="status">
          <Text size="sm" c="dark">
            {t("pms.secretSaved")}
          </Text>
        </Alert>
      )}
      {saveError && (
        <Alert color="red" role="alert">
          {t(saveError.key, { detail: saveError.detail })}
        </Alert>
      )}
    </Stack>
  );
}
