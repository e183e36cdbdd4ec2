import { Alert, Button, Card, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";
import { saveQuietHours } from "../api/save-quiet-hours";
import type { Property } from "../api/types";
import { useAutomationsMutation } from "../api/use-automations-mutation";

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function QuietHoursForm({ tenantId, property, canEdit }: { tenantId: string; property: Property; canEdit: boolean }) {
  const { t } = useTranslation();
  const [start, setStart] = useState(property.quietHoursStart);
  const [end, setEnd] = useState(property.quietHoursEnd);
  const [invalid, setInvalid] = useState(false);
  const save = useAutomationsMutation(tenantId, (v: { start: string; end: string }) =>
    saveQuietHours(tenantId, property.id, v.start, v.end),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const bad = !TIME.test(start) || !TIME.test(end);
    setInvalid(bad);
    if (!bad) save.mutate({ start, end });
  };
  const error =
    save.error instanceof UserFacingError ? save.error : save.error ? new UserFacingError("errors.unknown") : null;
  const summary =
    property.quietHoursStart === property.quietHoursEnd
      ? t("automations.quiet.none")
      : t("automations.quiet.summary", { start: property.quietHoursStart, end: property.quietHoursEnd });

  return (
    <form onSubmit={submit} noValidate aria-label={t("automations.quiet.formLabel", { name: property.name })}>
      <Stack gap="xs">
        <Text fw={600}>
          {property.name}{" "}
          <Text span c="gray.7" size="sm">
            ({property.timezone})
          </Text>
        </Text>
        <Text size="sm">{summary}</Text>
        <Group align="flex-end">
          <TextInput
            type="time"
            label={t("automations.quiet.start")}
            value={start}
            onChange={(e) => setStart(e.currentTarget.value)}
            readOnly={!canEdit}
            error={invalid && !TIME.test(start) ? t("automations.rules.errors.time") : undefined}
          />
          <TextInput
            type="time"
            label={t("automations.quiet.end")}
            value={end}
            onChange={(e) => setEnd(e.currentTarget.value)}
            readOnly={!canEdit}
            error={invalid && !TIME.test(end) ? t("automations.rules.errors.time") : undefined}
          />
          {canEdit && (
            <Button type="submit" loading={save.isPending}>
              {t("automations.quiet.save")}
            </Button>
          )}
        </Group>
        {save.isSuccess && (
          <Alert color="green" role="status">
            {t("automations.quiet.saved")}
          </Alert>
        )}
        {error && (
          <Alert color="red" role="alert">
            {t(error.key, { detail: error.detail })}
          </Alert>
        )}
      </Stack>
    </form>
  );
}

export function QuietHoursSection({
  tenantId,
  properties,
  canEdit,
}: {
  tenantId: string;
  properties: Property[];
  canEdit: boolean;
}) {
  const { t } = useTranslation();
  return (
    <Card withBorder component="section" aria-labelledby="quiet-title">
      <Stack>
        <Title order={2} size="h3" id="quiet-title">
          {t("automations.quiet.title")}
        </Title>
        <Text size="sm">{t("automations.quiet.intro")}</Text>
        {properties.map((p) => (
          <QuietHoursForm key={p.id} tenantId={tenantId} property={p} canEdit={canEdit} />
        ))}
      </Stack>
    </Card>
  );
}
