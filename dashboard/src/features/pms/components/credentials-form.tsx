import { Alert, Button, Group, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../../../lib/time";
import { errorKey } from "../api/errors";
import { CREDENTIAL_FIELDS, PROVIDERS, useSetCredentials, type Provider } from "../api/add-connection";
import type { PmsConnection } from "../api/get-connections";

function isProvider(p: string): p is Provider {
  return (PROVIDERS as readonly string[]).includes(p);
}

// The PMS's API credentials: written here, never shown again (private.pms_credentials).
export function CredentialsForm({
  tenantId,
  timeZone,
  connection: c,
}: {
  tenantId: string;
  timeZone: string;
  connection: PmsConnection;
}) {
  const { t, i18n } = useTranslation();
  const fields = isProvider(c.provider) ? CREDENTIAL_FIELDS[c.provider] : [];
  const [values, setValues] = useState<Record<string, string>>({});
  const save = useSetCredentials(tenantId);
  const failure = save.error ? errorKey(save.error) : null;
  const complete = fields.every((f) => values[f]?.trim());
  if (fields.length === 0) return null;

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const credentials = Object.fromEntries(fields.map((f) => [f, (values[f] ?? "").trim()]));
        save.mutate({ configurationId: c.id, credentials }, { onSuccess: () => setValues({}) });
      }}
    >
      <Stack gap="sm">
        <Title order={3} size="h4">
          {t("pms.credentials.title")}
        </Title>
        <Text size="sm">
          {c.credentialsSetAt
            ? t("pms.credentials.setAt", { at: formatDateTime(c.credentialsSetAt, timeZone, i18n.language) })
            : t("pms.credentials.first")}
        </Text>
        <Group align="end" gap="xs" grow wrap="wrap">
          {fields.map((f) => (
            <PasswordInput
              key={f}
              label={t(`pms.credentials.field.${f}`)}
              value={values[f] ?? ""}
              onChange={(e) => {
                const value = e.currentTarget.value;
                setValues((v) => ({ ...v, [f]: value }));
              }}
              autoComplete="off"
            />
          ))}
        </Group>
        <Group>
          <Button type="submit" variant="default" loading={save.isPending} disabled={!complete}>
            {t("pms.credentials.save")}
          </Button>
        </Group>
        {save.isSuccess && (
          <Alert color="green" role="status">
            <Text size="sm" c="dark">
              {t("pms.credentials.saved")}
            </Text>
          </Alert>
        )}
        {failure && (
          <Alert color="red" role="alert">
            {t(failure.key, { detail: failure.detail })}
          </Alert>
        )}
      </Stack>
    </form>
  );
}
