import { Alert, Anchor, Button, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { UserFacingError } from "../../../lib/errors";
import { useRequestPasswordReset } from "../api/account";

// "Forgot your password?": one answer whether the address has an account or not.
export function ForgotPasswordForm() {
  const { t } = useTranslation();
  const request = useRequestPasswordReset();
  const [email, setEmail] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    request.mutate(email);
  };
  const error = request.error instanceof UserFacingError ? request.error.key : request.error ? "errors.unknown" : null;

  return (
    <Paper component="main" id="main" maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={submit}>
        <Stack>
          <Title order={1} size="h2">
            {t("auth.forgotTitle")}
          </Title>
          {request.isSuccess ? (
            <Alert role="status" color="green">
              {t("auth.resetSent", { email: request.variables })}
            </Alert>
          ) : (
            <Text size="sm">{t("auth.forgotHelp")}</Text>
          )}
          {error && (
            <Alert color="red" role="alert">
              {t(error)}
            </Alert>
          )}
          <TextInput
            label={t("auth.email")}
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
          />
          <Button type="submit" loading={request.isPending}>
            {request.isPending ? t("auth.sending") : t("auth.sendLink")}
          </Button>
          <Anchor component={Link} to="/">
            {t("auth.backToSignIn")}
          </Anchor>
        </Stack>
      </form>
    </Paper>
  );
}
