import { Button, Center, Loader, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Navigate, Outlet, useParams } from "react-router";
import { QueryState } from "../../components/ui/query-state";
import { useSignOut } from "../../features/auth/api/sign-out";
import { useSession } from "../../features/auth/hooks/use-session";
import { useMemberships } from "../../features/tenants/api/get-memberships";
import { TenantProvider } from "../../features/tenants/hooks/use-tenant";
import { Layout } from "../layout";

function NoHotel() {
  const { t } = useTranslation();
  const signOut = useSignOut();
  return (
    <Stack component="main" id="main" maw={520} mx="auto" mt="xl">
      <Title order={1}>{t("app.title")}</Title>
      <Text>{t("tenants.none")}</Text>
      <Button variant="default" onClick={() => signOut.mutate()}>
        {t("auth.signOut")}
      </Button>
    </Stack>
  );
}

// "/": the first hotel's Today.
export function HomeRoute() {
  const { session } = useSession();
  const memberships = useMemberships(session?.user.id ?? "");
  if (memberships.isPending)
    return (
      <Center mt="xl" role="status">
        <Loader aria-label="…" />
      </Center>
    );
  const first = memberships.data?.[0];
  if (first) return <Navigate to={`/t/${first.tenantId}/today`} replace />;
  if (memberships.isError) return <QueryState query={memberships}>{() => null}</QueryState>;
  return <NoHotel />;
}

// /t/:tenantId/*: the hotel's screens, for its members only. Another hotel's id reads as a page
// that does not exist: the same answer whether the hotel exists or not.
export function TenantRoute() {
  const { t } = useTranslation();
  const { tenantId = "" } = useParams();
  const { session } = useSession();
  const memberships = useMemberships(session?.user.id ?? "");

  return (
    <QueryState query={memberships}>
      {(all) => {
        const current = all.find((m) => m.tenantId === tenantId);
        if (!current) {
          if (all.length === 0) return <NoHotel />;
          return (
            <Stack component="main" id="main" maw={520} mx="auto" mt="xl">
              <Title order={1}>{t("errors.notFound")}</Title>
              <Button component="a" href="/" variant="default">
                {t("nav.today")}
              </Button>
            </Stack>
          );
        }
        return (
          <TenantProvider membership={current}>
            <Layout email={session?.user.email ?? ""} memberships={all} current={current}>
              <Outlet />
            </Layout>
          </TenantProvider>
        );
      }}
    </QueryState>
  );
}
