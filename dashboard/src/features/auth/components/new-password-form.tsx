import { Alert, Button, PasswordInput, Stack } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";

interface Props {
  submitLabel: string;
  pending: boolean;
  error: unknown;
  onSubmit: (password: string) => void;
}

// A new password, typed twice; the server checks its strength.
export function NewPasswordForm({ submitLabel, pending, error, onSubmit }: Props) {
  const { t } = useTranslation();
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== repeat) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    onSubmit(password);
  };
  const message = mismatch
    ? "auth.mismatch"
    : error instanceof UserFacingError
      ? error.key
      : error
        ? "errors.unknown"
        : null;

  return (
    <form onSubmit={submit}>
      <Stack>
        {message && (
          <Alert color="red" role="alert">
            {t(message)}
          </Alert>
        )}
        <PasswordInput
          label={t("auth.newPassword")}
          description={t("auth.passwordHint")}
          // Mantine's dimmed description is below WCAG AA contrast on white.
          styles={{ description: { color: "var(--mantine-color-dark-6)" } }}
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <PasswordInput
          label={t("auth.repeatPassword")}
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.currentTarget.value)}
        />
        <Button type="submit" loading={pending}>
          {submitLabel}
        </Button>
      </Stack>
    </form>
  );
}
