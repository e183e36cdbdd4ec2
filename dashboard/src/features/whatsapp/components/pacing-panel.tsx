import { Alert, Button, Card, Group, NumberInput, Stack, Text, Title } from "@mantine/core";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";
import type { WhatsappState } from "../api/get-whatsapp";
import { GAP_LIMIT_MS, pacingProblem, useSetPacing } from "../api/pacing";

interface Props {
  tenantId: string;
  state: WhatsappState;
  canManage: boolean;
}

const seconds = (ms: number) => ms / 1000;
const toMs = (value: string | number): number | null =>
  value === "" || value === null ? null : Math.round(Number(value) * 1000);

// The random gap between two messages, which keeps the number from looking like a machine to
// WhatsApp. In seconds here, in milliseconds in the database.
export function PacingPanel({ tenantId, state, canManage }: Props) {
  const { t, i18n } = useTranslation();
  const headingId = useId();
  const [min, setMin] = useState<string | number>(seconds(state.gapMinMs));
  const [max, setMax] = useState<string | number>(seconds(state.gapMaxMs));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useSetPacing(tenantId);
  const number = (ms: number) => new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 }).format(ms / 1000);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const minMs = toMs(min);
    const maxMs = toMs(max);
    const found = pacingProblem(minMs, maxMs);
    setProblem(found);
    if (found || minMs === null || maxMs === null) return;
    save.mutate({ minMs, maxMs }, { onSuccess: () => setSaved(true) });
  };
  const failure = save.error;

  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap="sm">
        <Title order={2} id={headingId} size="h3">
          {t("whatsapp.pacing.title")}
        </Title>
        <Text data-testid="pacing-now">
          {t("whatsapp.pacing.now", { min: number(state.gapMinMs), max: number(state.gapMaxMs) })}
        </Text>
        <Text size="sm">{t("whatsapp.pacing.why")}</Text>
        {canManage && (
          <form onSubmit={submit} noValidate>
            <Stack gap="xs">
              <Group align="flex-start">
                <NumberInput
                  label={t("whatsapp.pacing.min")}
                  value={min}
                  onChange={setMin}
                  min={0}
                  max={GAP_LIMIT_MS / 1000}
                  decimalScale={1}
                  step={0.5}
                  required
                  maw={220}
                  error={problem === "pacing_negative" || problem === "pacing_missing" ? true : undefined}
                />
                <NumberInput
                  label={t("whatsapp.pacing.max")}
                  value={max}
                  onChange={setMax}
                  min={0}
                  max={GAP_LIMIT_MS / 1000}
                  decimalScale={1}
                  step={0.5}
                  required
                  maw={220}
                  error={problem && problem !== "pacing_negative" && problem !== "pacing_missing" ? true : undefined}
                />
              </Group>
              {problem && (
                <Text c="red.9" size="sm" role="alert">
                  {t(`whatsapp.pacing.${problem}`)}
                </Text>
              )}
              {failure && (
                <Alert color="red" role="alert">
                  {t(failure instanceof UserFacingError ? failure.key : "errors.unknown", {
                    detail: failure instanceof UserFacingError ? failure.detail : undefined,
                  })}
                </Alert>
              )}
              {saved && (
                <Alert color="green" role="status">
                  <Text c="dark">{t("whatsapp.pacing.saved")}</Text>
                </Alert>
              )}
              <Button type="submit" loading={save.isPending} w="fit-content">
                {t("whatsapp.pacing.save")}
              </Button>
            </Stack>
          </form>
        )}
      </Stack>
    </Card>
  );
}
