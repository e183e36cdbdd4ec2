import { Alert, Anchor, Center, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useSession } from "../hooks/use-session";
import { useSetPassword } from "../api/account";
import { NewPasswordForm } from "./new-password-form";

// Where the recovery link lands: supabase-js has exchanged the link's code for a session (in the
// browser that asked for the link), and the user chooses a new password.
export function ResetPassword() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { session, loading } = useSession();
  const update = useSetPassword();
  // A used or expired link comes back with Auth's error in the query (PKCE) or the fragment.
  const [params] = useSearchParams();
  const [linkFailed] = useState(() => params.has("error_code") || /(^#|&)error/.test(window.location.hash));

  if (loading)
    return (
      <Center mt="xl" role="status">
        <Loader aria-label={t("app.loading")} />
      </Center>
    );
  return (
    <Paper component="main" id="main" maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <Stack>
        <Title order={1} size="h2">
          {t("auth.resetTitle")}
        </Title>
        {session && !linkFailed ? (
          <>
            <Text size="sm">{t("auth.resetFor", { email: session.user.email })}</Text>
            <NewPasswordForm
              submitLabel={update.isPending ? t("auth.saving") : t("auth.savePassword")}
              pending={update.isPending}
              error={update.error}
              onSubmit={(password) =>
                update.mutate(password, { onSuccess: () => void navigate("/", { replace: true }) })
              }
            />
          </>
        ) : (
          <>
            <Alert color="orange" role="alert">
              {t("auth.resetLinkExpired")}
            </Alert>
            <Anchor component={Link} to="/forgot-password">
              {t("auth.requestAgain")}
            </Anchor>
          </>
        )}
      </Stack>
    </Paper>
  );
}
