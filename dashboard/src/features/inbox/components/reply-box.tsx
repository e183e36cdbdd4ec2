import { Alert, Button, Group, Modal, NativeSelect, SegmentedControl, Stack, Text, Textarea } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";
import { addNote, renderTemplate, useInboxMutation, useSendReply, type ReplyOutcome } from "../api/actions";
import { useTemplates } from "../api/templates";
import { languageName } from "./format";

interface Props {
  tenantId: string;
  conversationId: string;
  // The language the guest writes in (detected), else the stored preference: the suggestion.
  suggestedLanguage: string | null;
  detectedLanguage: string | null;
  canReply: boolean;
}

type Notice = { color: string; key: string; detail?: string } | null;

function errorNotice(error: unknown): Notice {
  const e = error instanceof UserFacingError ? error : new UserFacingError("errors.unknown");
  return { color: "red", key: e.key, detail: e.detail };
}

export function ReplyBox({ tenantId, conversationId, suggestedLanguage, detectedLanguage, canReply }: Props) {
  const { t } = useTranslation();
  const [mode, setMode] = useState<"reply" | "note">(canReply ? "reply" : "note");
  const [text, setText] = useState("");
  const [notice, setNotice] = useState<Notice>(null);
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonMissing, setReasonMissing] = useState(false);
  const send = useSendReply(tenantId);
  const note = useInboxMutation(tenantId, (body: string) => addNote(conversationId, body));

  // Another conversation: a fresh box.
  useEffect(() => {
    setText("");
    setNotice(null);
    setConfirming(false);
    setReason("");
  }, [conversationId]);

  const outcome = (result: ReplyOutcome) => {
    if (result.kind === "queued") {
      setText("");
      setConfirming(false);
      setReason("");
      setNotice({ color: "teal", key: "inbox.reply.queued" });
    } else if (result.kind === "confirm_opt_out") {
      setConfirming(true);
    } else {
      setConfirming(false);
      setNotice({ color: "red", key: "inbox.reply.stoppedAgain" });
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = text.trim();
    setNotice(null);
    if (!body) {
      setNotice({ color: "red", key: mode === "note" ? "inbox.note.empty" : "inbox.reply.empty" });
      return;
    }
    if (mode === "note") {
      note.mutate(body, {
        onSuccess: () => {
          setText("");
          setNotice({ color: "teal", key: "inbox.note.added" });
        },
        onError: (e) => setNotice(errorNotice(e)),
      });
      return;
    }
    send.mutate({ conversationId, body }, { onSuccess: outcome, onError: (e) => setNotice(errorNotice(e)) });
  };

  const confirm = (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) {
      setReasonMissing(true);
      return;
    }
    setReasonMissing(false);
    send.mutate(
      { conversationId, body: text.trim(), confirmReason: reason.trim() },
      {
        onSuccess: outcome,
        onError: (e) => {
          setConfirming(false);
          setNotice(errorNotice(e));
        },
      },
    );
  };

  return (
    <Stack gap="xs" component="section" aria-labelledby="reply-heading">
      <Text id="reply-heading" fw={700} component="h2" size="md" m={0}>
        {t("inbox.reply.heading")}
      </Text>
      <SegmentedControl
        value={mode}
        onChange={(v) => setMode(v as "reply" | "note")}
        data={[
          { value: "reply", label: t("inbox.reply.toGuest"), disabled: !canReply },
          { value: "note", label: t("inbox.note.mode") },
        ]}
        aria-label={t("inbox.reply.mode")}
      />
      {mode === "reply" && (
        <TemplatePicker
          tenantId={tenantId}
          conversationId={conversationId}
          suggestedLanguage={suggestedLanguage}
          detectedLanguage={detectedLanguage}
          onFill={(body) => setText(body)}
          onError={(e) => setNotice(errorNotice(e))}
        />
      )}
      <form onSubmit={submit}>
        <Stack gap="xs">
          <Textarea
            label={mode === "reply" ? t("inbox.reply.label") : t("inbox.note.fieldLabel")}
            description={mode === "note" ? t("inbox.note.onlyStaff") : undefined}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            autosize
            minRows={2}
            maxRows={8}
            maxLength={4096}
          />
          <Group justify="flex-end">
            <Button type="submit" loading={send.isPending || note.isPending} color={mode === "note" ? "yellow.9" : undefined}>
              {mode === "reply" ? t("inbox.reply.send") : t("inbox.note.add")}
            </Button>
          </Group>
        </Stack>
      </form>
      {notice && (
        <Alert color={notice.color} role={notice.color === "red" ? "alert" : "status"} data-testid="reply-notice" p="xs">
          {t(notice.key, { detail: notice.detail })}
        </Alert>
      )}
      <Modal.Root opened={confirming} onClose={() => setConfirming(false)} centered>
        <Modal.Overlay />
        <Modal.Content>
          {/* A div, not Mantine's <header>: the page has one banner landmark. */}
          <Modal.Header {...({ component: "div" } as object)}>
            <Modal.Title fw={700}>{t("inbox.optOut.confirmTitle")}</Modal.Title>
            <Modal.CloseButton aria-label={t("inbox.optOut.cancel")} />
          </Modal.Header>
          <Modal.Body>
            <form onSubmit={confirm}>
              <Stack>
                <Text>{t("inbox.optOut.confirmText")}</Text>
                <Textarea
                  label={t("inbox.optOut.reason")}
                  withAsterisk
                  aria-required
                  value={reason}
                  onChange={(e) => setReason(e.currentTarget.value)}
                  error={reasonMissing ? t("inbox.optOut.reasonRequired") : undefined}
                  maxLength={500}
                  data-autofocus
                />
                <Group justify="flex-end">
                  <Button variant="default" onClick={() => setConfirming(false)}>
                    {t("inbox.optOut.cancel")}
                  </Button>
                  <Button type="submit" color="red.9" loading={send.isPending}>
                    {t("inbox.optOut.sendAnyway")}
                  </Button>
                </Group>
              </Stack>
            </form>
          </Modal.Body>
        </Modal.Content>
      </Modal.Root>
    </Stack>
  );
}

interface PickerProps {
  tenantId: string;
  conversationId: string;
  suggestedLanguage: string | null;
  detectedLanguage: string | null;
  onFill: (body: string) => void;
  onError: (error: unknown) => void;
}

function TemplatePicker({ tenantId, conversationId, suggestedLanguage, detectedLanguage, onFill, onError }: PickerProps) {
  const { t, i18n } = useTranslation();
  const templates = useTemplates(tenantId);
  const [key, setKey] = useState("");
  const [language, setLanguage] = useState("");
  const [loading, setLoading] = useState(false);
  const choices = templates.data ?? [];
  const chosen = choices.find((c) => c.key === key);
  const languages = chosen?.languages ?? [];

  // The guest's language first, when the template is written in it.
  useEffect(() => {
    if (!chosen) return;
    setLanguage(suggestedLanguage && chosen.languages.includes(suggestedLanguage) ? suggestedLanguage : (chosen.languages[0] ?? ""));
  }, [chosen, suggestedLanguage]);

  if (choices.length === 0) return null;

  const fill = async () => {
    if (!key) return;
    setLoading(true);
    try {
      const rendered = await renderTemplate(conversationId, key, language || null);
      onFill(rendered.body);
    } catch (error) {
      onError(error);
    } finally {
      setLoading(false);
    }
  };

  return (
    <Group gap="xs" align="flex-end" wrap="wrap">
      <NativeSelect
        label={t("inbox.template.label")}
        value={key}
        onChange={(e) => setKey(e.currentTarget.value)}
        data={[{ value: "", label: t("inbox.template.none") }, ...choices.map((c) => ({ value: c.key, label: c.key }))]}
      />
      {chosen && (
        <NativeSelect
          label={t("inbox.template.language")}
          value={language}
          onChange={(e) => setLanguage(e.currentTarget.value)}
          data={languages.map((l) => ({
            value: l,
            label:
              l === suggestedLanguage
                ? t("inbox.template.suggested", { language: languageName(l, i18n.language) })
                : languageName(l, i18n.language),
          }))}
        />
      )}
      <Button variant="light" onClick={() => void fill()} disabled={!key} loading={loading}>
        {t("inbox.template.use")}
      </Button>
      {detectedLanguage && (
        <Text size="sm" w="100%">
          {t("inbox.template.hint", { language: languageName(detectedLanguage, i18n.language) })}
        </Text>
      )}
    </Group>
  );
}
