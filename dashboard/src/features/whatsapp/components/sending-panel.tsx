import { Alert, Button, Card, Stack, Text, Textarea, Title } from "@mantine/core";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";
import { formatDateTime } from "../../../lib/time";
import type { WhatsappState } from "../api/get-whatsapp";
import { REASON_MAX, usePauseSending, useResumeSending } from "../api/sending";

interface Props {
  tenantId: string;
  timeZone: string;
  state: WhatsappState;
  canManage: boolean;
}

const errorKey = (e: unknown) => (e instanceof UserFacingError ? e.key : "errors.unknown");

// Sending on or paused: a pause by hand shows who, when and why to everyone; owners and admins
// pause (with a reason) and resume.
export function SendingPanel({ tenantId, timeZone, state, canManage }: Props) {
  const { t, i18n } = useTranslation();
  const headingId = useId();
  const [reason, setReason] = useState("");
  const [invalid, setInvalid] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const pause = usePauseSending(tenantId);
  const resume = useResumeSending(tenantId);
  const failure = pause.error ?? resume.error;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = reason.trim();
    if (trimmed.length === 0 || trimmed.length > REASON_MAX) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setDone(null);
    resume.reset();
    pause.mutate(trimmed, {
      onSuccess: () => {
        setReason("");
        setDone(t("whatsapp.sending.paused"));
      },
    });
  };
  const lift = () => {
    setDone(null);
    pause.reset();
    resume.mutate(undefined, {
      onSuccess: (resumed) => setDone(t(resumed ? "whatsapp.sending.resumed" : "whatsapp.sending.alreadyResumed")),
    });
  };

  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap="sm">
        <Title order={2} id={headingId} size="h3">
          {t("whatsapp.sending.title")}
        </Title>
        {state.hold ? (
          <Alert color="yellow" data-testid="sending-hold">
            {/* Not the Alert's title: its yellow fails axe's contrast rule. */}
            <Text c="dark" fw={700}>
              {t("whatsapp.sending.heldTitle")}
            </Text>
            <Text c="dark">
              {t("whatsapp.sending.heldBy", {
                who: state.hold.byEmail ?? t("whatsapp.sending.someone"),
                when: formatDateTime(state.hold.at, timeZone, i18n.language),
              })}
            </Text>
            <Text c="dark">{t("whatsapp.sending.heldReason", { reason: state.hold.reason })}</Text>
          </Alert>
        ) : state.pausedReason ? (
          <Text data-testid="sending-state">{t("whatsapp.sending.waiting", { reason: state.pausedReason })}</Text>
        ) : (
          <Text data-testid="sending-state">{t("whatsapp.sending.on")}</Text>
        )}
        {failure && (
          <Alert color="red" role="alert">
            {t(errorKey(failure), { detail: failure instanceof UserFacingError ? failure.detail : undefined })}
          </Alert>
        )}
        {done && (
          <Alert color="green" role="status">
            <Text c="dark">{done}</Text>
          </Alert>
        )}
        {canManage &&
          (state.hold ? (
            <Button onClick={lift} loading={resume.isPending} w="fit-content">
              {t("whatsapp.sending.resume")}
            </Button>
          ) : (
            <form onSubmit={submit} noValidate>
              <Stack gap="xs">
                <Textarea
                  label={t("whatsapp.sending.reason")}
                  description={t("whatsapp.sending.reasonHelp")}
                  // Mantine's dimmed description is too faint for axe's contrast rule.
                  styles={{ description: { color: "var(--mantine-color-dark-7)" } }}
                  value={reason}
                  onChange={(e) => setReason(e.currentTarget.value)}
                  error={invalid ? t("whatsapp.sending.reasonInvalid", { max: REASON_MAX }) : undefined}
                  required
                  maxLength={REASON_MAX}
                  autosize
                  minRows={2}
                />
                <Button type="submit" loading={pause.isPending} w="fit-content">
                  {t("whatsapp.sending.pause")}
                </Button>
              </Stack>
            </form>
          ))}
      </Stack>
    </Card>
  );
}
