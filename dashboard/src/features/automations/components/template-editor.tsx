import {
  Alert,
  Button,
  Group,
  Loader,
  NativeSelect,
  Paper,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { readableDescription } from "./styles";
import { UserFacingError } from "../../../lib/errors";
import { formatDate } from "../../../lib/time";
import { previewQueryOptions } from "../api/preview-template";
import { saveTemplate } from "../api/save-template";
import type { PreviewReservation, Template } from "../api/types";
import { useAutomationsMutation } from "../api/use-automations-mutation";
import { formatNames } from "../api/errors";

// How long typing must pause before the preview asks the database again.
export const PREVIEW_DEBOUNCE_MS = 300;

// Values for the error texts that show braces (i18next would read them as its own placeholders).
const BRACES = { open: "{{", close: "}}", example: "{{guest_name}}" };

const KEY = /^[a-z][a-z0-9_]{1,63}$/;
const LANGUAGE = /^[a-z]{2}$/;

interface Props {
  tenantId: string;
  // null: a new template.
  template: Template | null;
  reservations: PreviewReservation[];
  canEdit: boolean;
  onClose: () => void;
  // A new template was saved (the list shows it; the editor closes).
  onCreated: () => void;
}

export function TemplateEditor({ tenantId, template, reservations, canEdit, onClose, onCreated }: Props) {
  const { t, i18n } = useTranslation();
  const [key, setKey] = useState(template?.key ?? "");
  const [language, setLanguage] = useState(template?.language ?? "");
  const [body, setBody] = useState(template?.body ?? "");
  const [reservationId, setReservationId] = useState<string | null>(reservations[0]?.id ?? null);
  const [invalid, setInvalid] = useState<Partial<Record<"key" | "language" | "body", string>>>({});
  const [debouncedBody] = useDebouncedValue(body, PREVIEW_DEBOUNCE_MS);
  const savedKey = template?.key ?? (KEY.test(key) ? key : null);
  const preview = useQuery({
    ...previewQueryOptions(debouncedBody, reservationId, savedKey),
    placeholderData: keepPreviousData,
  });
  const save = useAutomationsMutation(tenantId, (v: { key: string; language: string; body: string }) =>
    saveTemplate(tenantId, template?.id ?? null, v),
  );
  const saveError =
    save.error instanceof UserFacingError ? save.error : save.error ? new UserFacingError("errors.unknown") : null;
  const previewError =
    preview.error instanceof UserFacingError
      ? preview.error
      : preview.error
        ? new UserFacingError("errors.unknown")
        : null;
  const checked = preview.data;
  const stale = debouncedBody !== body || preview.isFetching;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: typeof invalid = {};
    if (!template && !KEY.test(key)) found.key = "automations.templates.errors.key";
    if (!template && !LANGUAGE.test(language)) found.language = "automations.templates.errors.language";
    if (body.trim().length === 0) found.body = "automations.templates.errors.empty";
    else if (body.length > 4096) found.body = "automations.templates.errors.tooLong";
    setInvalid(found);
    if (Object.keys(found).length === 0)
      save.mutate({ key, language, body }, { onSuccess: () => (template ? undefined : onCreated()) });
  };
  const title = template
    ? t(canEdit ? "automations.templates.editTitle" : "automations.templates.viewTitle", {
        key: template.key,
        language: template.language,
      })
    : t("automations.templates.addTitle");
  const chosen = reservations.find((r) => r.id === reservationId);

  return (
    <form onSubmit={submit} noValidate aria-label={title}>
      <Stack gap="sm">
        <Title order={3} size="h4">
          {title}
        </Title>
        {!template && (
          <Group grow align="flex-start">
            <TextInput
              label={t("automations.templates.key")}
              styles={readableDescription}
              description={t("automations.templates.keyHint")}
              value={key}
              onChange={(e) => setKey(e.currentTarget.value)}
              error={invalid.key ? t(invalid.key) : undefined}
              required
            />
            <TextInput
              label={t("automations.templates.language")}
              styles={readableDescription}
              description={t("automations.templates.languageHint")}
              value={language}
              onChange={(e) => setLanguage(e.currentTarget.value.toLowerCase())}
              error={invalid.language ? t(invalid.language) : undefined}
              maxLength={2}
              required
            />
          </Group>
        )}
        <Textarea
          label={t("automations.templates.body")}
          styles={readableDescription}
          description={
            checked ? t("automations.templates.allowed", { names: formatNames(checked.allowed) }) : undefined
          }
          value={body}
          onChange={(e) => setBody(e.currentTarget.value)}
          readOnly={!canEdit}
          autosize
          minRows={4}
          maxRows={14}
          error={invalid.body ? t(invalid.body) : undefined}
        />
        {checked && checked.unknown.length > 0 && (
          <Alert color="red" role="alert">
            {t("automations.errors.unknownPlaceholders", { detail: formatNames(checked.unknown) })}
          </Alert>
        )}
        {checked && checked.unknown.length === 0 && checked.unbalanced && (
          <Alert color="red" role="alert">
            {t("automations.errors.unbalanced", BRACES)}
          </Alert>
        )}
        <NativeSelect
          label={t("automations.templates.previewFor")}
          value={reservationId ?? ""}
          onChange={(e) => setReservationId(e.currentTarget.value || null)}
          data={
            reservations.length === 0
              ? [{ value: "", label: t("automations.templates.noReservations") }]
              : reservations.map((r) => ({
                  value: r.id,
                  label: `${r.guestName ?? r.pmsReservationId} · ${formatDate(r.arrivalDate, i18n.language)} – ${formatDate(r.departureDate, i18n.language)} · ${r.pmsReservationId}`,
                }))
          }
        />
        <section aria-labelledby="preview-title">
          <Group gap="xs">
            <Text fw={600} id="preview-title">
              {t("automations.templates.preview")}
            </Text>
            {stale && reservationId && <Loader size="xs" aria-label={t("automations.templates.updating")} />}
          </Group>
          <Paper withBorder p="sm" data-testid="template-preview" aria-live="polite">
            {previewError ? (
              <Text c="red">{t(previewError.key, { detail: previewError.detail })}</Text>
            ) : !reservationId ? (
              <Text c="gray.7">{t("automations.templates.previewNeedsReservation")}</Text>
            ) : checked?.text != null ? (
              <Text style={{ whiteSpace: "pre-wrap" }}>{checked.text}</Text>
            ) : checked ? (
              <Text c="gray.7">{t("automations.templates.previewFix")}</Text>
            ) : (
              <Text c="gray.7">{t("app.loading")}</Text>
            )}
          </Paper>
          {chosen && checked?.language && (
            <Text size="sm" mt={4}>
              {checked.guestLanguage && checked.guestLanguage === checked.language
                ? t("automations.templates.guestGetsOwn", { language: checked.language })
                : t("automations.templates.guestGetsFallback", {
                    guestLanguage: checked.guestLanguage ?? "–",
                    language: checked.language,
                  })}
            </Text>
          )}
        </section>
        {save.isSuccess && (
          <Alert color="green" role="status">
            {t("automations.templates.saved")}
          </Alert>
        )}
        {saveError && (
          <Alert color="red" role="alert">
            {t(saveError.key, { detail: saveError.detail, ...BRACES })}
          </Alert>
        )}
        <Group>
          {canEdit && (
            <Button type="submit" loading={save.isPending}>
              {t("automations.templates.save")}
            </Button>
          )}
          <Button variant="default" onClick={onClose} disabled={save.isPending}>
            {t("automations.close")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
