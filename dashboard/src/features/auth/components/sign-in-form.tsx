import { Alert, Anchor, Button, Paper, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { UserFacingError } from "../../../lib/errors";
import { useSignIn } from "../api/sign-in";
import type { SignedOutReason } from "../hooks/use-session";

export function SignInForm({ reason }: { reason: SignedOutReason }) {
  const { t } = useTranslation();
  const signIn = useSignIn();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email, password });
  };
  const error = signIn.error instanceof UserFacingError ? signIn.error.key : signIn.error ? "errors.unknown" : null;

  return (
    <Paper component="main" id="main" maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={submit} noValidate={false}>
        <Stack>
          <Title order={1} size="h2">
            {t("auth.signInTitle")}
          </Title>
          {reason === "session_ended" && (
            <Alert color="orange" role="alert">
              {t("auth.sessionEnded")}
            </Alert>
          )}
          {reason === "signed_out" && <Alert role="status">{t("auth.signedOut")}</Alert>}
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
          <PasswordInput
            label={t("auth.password")}
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
          <Button type="submit" loading={signIn.isPending}>
            {signIn.isPending ? t("auth.signingIn") : t("auth.signIn")}
          </Button>
          <Anchor component={Link} to="/forgot-password" size="sm">
            {t("auth.forgotLink")}
          </Anchor>
        </Stack>
      </form>
    </Paper>
  );
}
