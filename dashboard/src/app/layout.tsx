import { Anchor, AppShell, Badge, Burger, Button, Group, NativeSelect, NavLink, Text, VisuallyHidden } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "react-router";
import { useSignOut } from "../features/auth/api/sign-out";
import { useInboxBadge } from "../features/inbox/hooks/use-inbox-badge";
import type { Membership } from "../features/tenants/api/get-memberships";
import { TenantSwitcher } from "../features/tenants/components/tenant-switcher";
import { languages } from "../lib/i18n";

interface Props {
  email: string;
  memberships: Membership[];
  current: Membership;
  children: ReactNode;
}

export function Layout({ email, memberships, current, children }: Props) {
  const { t, i18n } = useTranslation();
  const [opened, { toggle, close }] = useDisclosure();
  const signOut = useSignOut();
  const { pathname } = useLocation();
  const base = `/t/${current.tenantId}`;
  const unread = useInboxBadge(current.tenantId);
  const links = [
    // The day's work first, then the connections, the set-up and the figures.
    { to: `${base}/today`, label: t("nav.today") },
    { to: `${base}/inbox`, label: t("nav.inbox"), count: unread },
    { to: `${base}/reservations`, label: t("nav.reservations") },
    { to: `${base}/messages`, label: t("nav.messages") },
    { to: `${base}/whatsapp`, label: t("nav.whatsapp") },
    { to: `${base}/pms`, label: t("nav.pms") },
    { to: `${base}/automations`, label: t("nav.automations") },
    ...(current.role === "staff" ? [] : [{ to: `${base}/team`, label: t("nav.team") }]),
    { to: `${base}/metrics`, label: t("nav.metrics") },
  ];

  return (
    <AppShell
      header={{ height: { base: 120, sm: 72 } }}
      navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header component="header">
        <Anchor href="#main" className="skip-link">
          {t("app.skipToContent")}
        </Anchor>
        <Group justify="space-between" px="md" py="xs" wrap="wrap" gap="xs">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("nav.main")} />
            <Text fw={700}>{t("app.title")}</Text>
            <TenantSwitcher memberships={memberships} current={current.tenantId} />
            <Text size="sm">{t(`tenants.role_${current.role}`)}</Text>
          </Group>
          <Group gap="sm">
            <NativeSelect
              aria-label={t("app.language")}
              value={i18n.language}
              onChange={(e) => void i18n.changeLanguage(e.currentTarget.value)}
              data={Object.entries(languages).map(([value, label]) => ({ value, label }))}
            />
            <Text size="sm">{t("auth.signedInAs", { email })}</Text>
            <Button variant="default" loading={signOut.isPending} onClick={() => signOut.mutate()}>
              {t("auth.signOut")}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar component="nav" aria-label={t("nav.main")} p="xs">
        {links.map((l) => (
          <NavLink
            key={l.to}
            component={Link}
            to={l.to}
            label={l.label}
            rightSection={
              "count" in l && l.count ? (
                <Badge size="sm" color="blue.8">
                  {l.count}
                  <VisuallyHidden> {t("inbox.navUnread")}</VisuallyHidden>
                </Badge>
              ) : undefined
            }
            onClick={close}
            active={pathname.startsWith(l.to)}
            variant="filled"
            aria-current={pathname.startsWith(l.to) ? "page" : undefined}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main component="main" id="main" tabIndex={-1}>
        {children}
      </AppShell.Main>
    </AppShell>
  );
}
