import { Alert, Button, Center, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { UserFacingError } from "../../../lib/errors";
import { supabase } from "../../../lib/supabase";
import { SignInForm } from "./sign-in-form";
import { useSession } from "../hooks/use-session";
import { acceptInvitation, setPassword, takeInvitationSession } from "../api/account";
import { NewPasswordForm } from "./new-password-form";

type Arrival = "pending" | "from-link" | "signed-in" | "link-failed";

// Where an invitation e-mail's link lands (/accept-invite?invitation=<token>, Auth's session in
// the fragment): a new member chooses a password and joins; someone who already has an account
// signs in and joins. Then the hotel's Today.
export function AcceptInvitation({ token }: { token: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const { session, loading } = useSession();
  const [arrival, setArrival] = useState<Arrival>("pending");

  useEffect(() => {
    const taken = takeInvitationSession();
    if (taken === null) {
      setArrival("signed-in");
    } else if ("error" in taken) {
      setArrival("link-failed");
    } else {
      void supabase.auth
        .setSession(taken)
        .then(({ error }) => setArrival(error ? "link-failed" : "from-link"));
    }
  }, []);

  const join = useMutation({
    mutationFn: async (password: string | null) => {
      if (password !== null) await setPassword(password);
      return acceptInvitation(token);
    },
    onSuccess: async (tenantId) => {
      await client.invalidateQueries({ queryKey: ["memberships"] });
      void navigate(`/t/${tenantId}/today`, { replace: true });
    },
  });
  const error = join.error instanceof UserFacingError ? join.error.key : join.error ? "errors.unknown" : null;

  if (arrival === "pending" || loading)
    return (
      <Center mt="xl" role="status">
        <Loader aria-label={t("app.loading")} />
      </Center>
    );
  if (!token || arrival === "link-failed")
    return (
      <Paper component="main" id="main" maw={460} mx="auto" mt="xl" p="lg" withBorder>
        <Stack>
          <Title order={1} size="h2">
            {t("auth.inviteTitle")}
          </Title>
          <Alert color="orange" role="alert">
            {t("auth.inviteLinkExpired")}
          </Alert>
        </Stack>
      </Paper>
    );
  if (!session) return <SignInForm reason={null} />;
  return (
    <Paper component="main" id="main" maw={460} mx="auto" mt="xl" p="lg" withBorder>
      <Stack>
        <Title order={1} size="h2">
          {t("auth.inviteTitle")}
        </Title>
        <Text size="sm">{t("auth.inviteFor", { email: session.user.email })}</Text>
        {arrival === "from-link" ? (
          <NewPasswordFormForInvite pending={join.isPending} error={join.error} onSubmit={(p) => join.mutate(p)} />
        ) : (
          <>
            {error && (
              <Alert color="red" role="alert">
                {t(error)}
              </Alert>
            )}
            <Button loading={join.isPending} onClick={() => join.mutate(null)}>
              {t("auth.join")}
            </Button>
          </>
        )}
      </Stack>
    </Paper>
  );
}

function NewPasswordFormForInvite(props: { pending: boolean; error: unknown; onSubmit: (p: string) => void }) {
  const { t } = useTranslation();
  return (
    <NewPasswordForm
      submitLabel={props.pending ? t("auth.joining") : t("auth.setPasswordAndJoin")}
      pending={props.pending}
      error={props.error}
      onSubmit={props.onSubmit}
    />
  );
}
