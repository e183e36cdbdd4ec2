import { Alert, Button, Card, Group, NativeSelect, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { readableDescription } from "./styles";
import { UserFacingError } from "../../../lib/errors";
import { saveFallbackLanguage } from "../api/save-fallback-language";
import type { PreviewReservation, Template } from "../api/types";
import { useAutomationsMutation } from "../api/use-automations-mutation";
import { TemplateEditor } from "./template-editor";

// The languages offered as the hotel's fallback: common ones and every language with a template.
const COMMON = ["en", "de", "fr", "it", "es", "nl", "pl", "pt", "da", "sv", "cs", "tr"];

function languageName(code: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function FallbackLanguage({
  tenantId,
  current,
  languages,
  canEdit,
}: {
  tenantId: string;
  current: string;
  languages: string[];
  canEdit: boolean;
}) {
  const { t, i18n } = useTranslation();
  const [value, setValue] = useState(current);
  const save = useAutomationsMutation(tenantId, (language: string) => saveFallbackLanguage(tenantId, language));
  const error =
    save.error instanceof UserFacingError ? save.error : save.error ? new UserFacingError("errors.unknown") : null;
  const options = [...new Set([current, ...languages, ...COMMON])].map((code) => ({
    value: code,
    label: `${languageName(code, i18n.language)} (${code})`,
  }));
  return (
    <Stack gap="xs">
      <Group align="flex-end">
        <NativeSelect
          label={t("automations.templates.fallback")}
          styles={readableDescription}
          description={t("automations.templates.fallbackHint")}
          value={value}
          onChange={(e) => setValue(e.currentTarget.value)}
          data={options}
          disabled={!canEdit}
        />
        {canEdit && (
          <Button
            variant="default"
            loading={save.isPending}
            disabled={value === current}
            onClick={() => save.mutate(value)}
          >
            {t("automations.templates.saveFallback")}
          </Button>
        )}
      </Group>
      {save.isSuccess && value === current && (
        <Alert color="green" role="status">
          {t("automations.templates.fallbackSaved", { language: languageName(current, i18n.language) })}
        </Alert>
      )}
      {error && (
        <Alert color="red" role="alert">
          {t(error.key, { detail: error.detail })}
        </Alert>
      )}
    </Stack>
  );
}

interface Props {
  tenantId: string;
  templates: Template[];
  fallbackLanguage: string;
  reservations: PreviewReservation[];
  canEdit: boolean;
}

export function TemplatesSection({ tenantId, templates, fallbackLanguage, reservations, canEdit }: Props) {
  const { t } = useTranslation();
  // null: no editor; "new": a new template; else the id of the template open.
  const [open, setOpen] = useState<string | null>(null);
  const [created, setCreated] = useState(false);
  const current = open && open !== "new" ? (templates.find((tpl) => tpl.id === open) ?? null) : null;

  return (
    <Card withBorder component="section" aria-labelledby="templates-title">
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h3" id="templates-title">
            {t("automations.templates.title")}
          </Title>
          {canEdit && open === null && (
            <Button variant="default" onClick={() => (setCreated(false), setOpen("new"))}>
              {t("automations.templates.add")}
            </Button>
          )}
        </Group>
        <Text size="sm">{t("automations.templates.intro")}</Text>
        <FallbackLanguage
          tenantId={tenantId}
          current={fallbackLanguage}
          languages={templates.map((tpl) => tpl.language)}
          canEdit={canEdit}
        />
        {created && (
          <Alert color="green" role="status">
            {t("automations.templates.created")}
          </Alert>
        )}
        {open !== null && (
          <Card withBorder>
            <TemplateEditor
              key={open}
              tenantId={tenantId}
              template={current}
              reservations={reservations}
              canEdit={canEdit}
              onClose={() => setOpen(null)}
              onCreated={() => (setCreated(true), setOpen(null))}
            />
          </Card>
        )}
        {templates.length === 0 ? (
          <Text>{t("automations.templates.none")}</Text>
        ) : (
          <Table.ScrollContainer minWidth={480}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("automations.templates.key")}</Table.Th>
                  <Table.Th>{t("automations.templates.language")}</Table.Th>
                  <Table.Th>{t("automations.templates.body")}</Table.Th>
                  <Table.Th>{t("automations.actions")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {templates.map((tpl) => (
                  <Table.Tr key={tpl.id}>
                    <Table.Td>{tpl.key}</Table.Td>
                    <Table.Td>{tpl.language}</Table.Td>
                    <Table.Td>
                      <Text size="sm" lineClamp={2}>
                        {tpl.body}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Button
                        size="compact-sm"
                        variant="default"
                        aria-label={t(canEdit ? "automations.templates.editLabel" : "automations.templates.viewLabel", {
                          key: tpl.key,
                          language: tpl.language,
                        })}
                        onClick={() => (setCreated(false), setOpen(tpl.id))}
                      >
                        {canEdit ? t("automations.edit") : t("automations.view")}
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Card>
  );
}
