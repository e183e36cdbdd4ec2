import {
  Alert,
  Button,
  Group,
  Modal,
  NativeSelect,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { QueryState } from "../../../components/ui/query-state";
import { UserFacingError } from "../../../lib/errors";
import { formatDateTime } from "../../../lib/time";
import {
  changeRole,
  inviteMember,
  removeMember,
  revokeInvitation,
  useInvitations,
  useTeam,
  useTeamMutation,
  type InviteResult,
  type Role,
  type TeamMember,
} from "../api/team";

const ROLES: Role[] = ["owner", "admin", "staff"];

interface Props {
  tenantId: string;
  myRole: Role;
  timeZone: string;
}

// Whom the signed-in user may manage (the database decides; this only hides what it would refuse):
// owners everyone, admins everyone but owners, and nobody makes an owner but an owner.
export function rolesICanGive(myRole: Role): Role[] {
  return myRole === "owner" ? ROLES : myRole === "admin" ? ["admin", "staff"] : [];
}

function canManage(myRole: Role, member: TeamMember): boolean {
  return myRole === "owner" || (myRole === "admin" && member.role !== "owner");
}

type Confirm = { kind: "remove"; member: TeamMember } | { kind: "revoke"; id: string; email: string };

function errorKey(error: unknown): string {
  return error instanceof UserFacingError ? error.key : "errors.unknown";
}

export function InviteForm({
  roles,
  pending,
  onInvite,
}: {
  roles: Role[];
  pending: boolean;
  onInvite: (email: string, role: Role) => void;
}) {
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("staff");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onInvite(email.trim(), role);
  };
  return (
    <form onSubmit={submit} aria-label={t("team.inviteTitle")}>
      <Group align="flex-end" wrap="wrap">
        <TextInput
          label={t("team.email")}
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          miw={260}
        />
        <NativeSelect
          label={t("team.role")}
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as Role)}
          data={roles.map((r) => ({ value: r, label: t(`tenants.role_${r}`) }))}
        />
        <Button type="submit" loading={pending}>
          {pending ? t("team.inviting") : t("team.invite")}
        </Button>
      </Group>
    </form>
  );
}

export function TeamScreen({ tenantId, myRole, timeZone }: Props) {
  const { t, i18n } = useTranslation();
  const team = useTeam(tenantId);
  const invitations = useInvitations(tenantId);
  const [notice, setNotice] = useState<{ text: string; link?: string } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  // A new key empties the invitation form after a sent invitation.
  const [sentCount, setInvitationsSent] = useState(0);
  const navigate = useNavigate();

  const done = (text: string, link?: string) => {
    setFailure(null);
    setNotice({ text, link });
  };
  const failed = (error: unknown) => {
    setNotice(null);
    setFailure(errorKey(error));
  };

  const invite = useTeamMutation(tenantId, ({ email, role }: { email: string; role: Role }) =>
    inviteMember(tenantId, email, role),
  );
  const role = useTeamMutation(tenantId, ({ member, role }: { member: TeamMember; role: Role }) =>
    changeRole(tenantId, member.userId, role),
  );
  const remove = useTeamMutation(tenantId, (member: TeamMember) => removeMember(tenantId, member.userId));
  const revoke = useTeamMutation(tenantId, (id: string) => revokeInvitation(id));

  const onInvite = (email: string, newRole: Role) =>
    invite.mutate(
      { email, role: newRole },
      {
        onSuccess: (result: unknown) => {
          const r = result as InviteResult;
          setInvitationsSent((n) => n + 1);
          if (r.link) done(t("team.existingAccount", { email }), r.link);
          else done(t("team.invited", { email }));
        },
        onError: failed,
      },
    );

  const onConfirm = () => {
    if (!confirm) return;
    if (confirm.kind === "remove") {
      const member = confirm.member;
      remove.mutate(member, {
        onSuccess: () => {
          // Whoever leaves no longer sees this hotel.
          if (member.isMe) void navigate("/", { replace: true });
          else done(t("team.removed", { email: member.email }));
        },
        onError: failed,
        onSettled: () => setConfirm(null),
      });
    } else {
      const { id, email } = confirm;
      revoke.mutate(id, {
        onSuccess: () => done(t("team.revoked", { email })),
        onError: failed,
        onSettled: () => setConfirm(null),
      });
    }
  };

  return (
    <Stack>
      <Title order={1}>{t("team.title")}</Title>
      <div aria-live="polite">
        {notice && (
          <Alert
            color="green"
            role="status"
            withCloseButton
            onClose={() => setNotice(null)}
            closeButtonLabel={t("team.close")}
          >
            <Text size="sm">{notice.text}</Text>
            {notice.link && <TextInput mt="xs" readOnly label={t("team.linkToShare")} value={notice.link} />}
          </Alert>
        )}
      </div>
      {failure && (
        <Alert color="red" role="alert">
          {t(failure)}
        </Alert>
      )}

      <Paper withBorder p="md">
        <Stack>
          <Title order={2} size="h3">
            {t("team.inviteTitle")}
          </Title>
          <InviteForm key={sentCount} roles={rolesICanGive(myRole)} pending={invite.isPending} onInvite={onInvite} />
        </Stack>
      </Paper>

      <Title order={2} size="h3">
        {t("team.members")}
      </Title>
      <QueryState query={team}>
        {(members) => (
          <Table.ScrollContainer minWidth={560}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("team.email")}</Table.Th>
                  <Table.Th>{t("team.role")}</Table.Th>
                  <Table.Th>{t("team.joined")}</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>{t("team.actions")}</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {members.map((m) => {
                  const manageable = canManage(myRole, m);
                  const roles = myRole === "owner" ? ROLES : m.role === "owner" ? ROLES : ["admin", "staff"];
                  return (
                    <Table.Tr key={m.userId}>
                      <Table.Td>
                        {m.email}
                        {m.isMe && ` (${t("team.you")})`}
                      </Table.Td>
                      <Table.Td>
                        {manageable ? (
                          <NativeSelect
                            aria-label={t("team.roleOf", { email: m.email })}
                            value={m.role}
                            disabled={role.isPending}
                            onChange={(e) => {
                              const next = e.currentTarget.value as Role;
                              role.mutate(
                                { member: m, role: next },
                                {
                                  onSuccess: () =>
                                    done(t("team.roleChanged", { email: m.email, role: t(`tenants.role_${next}`) })),
                                  onError: failed,
                                },
                              );
                            }}
                            data={roles.map((r) => ({ value: r, label: t(`tenants.role_${r}`) }))}
                          />
                        ) : (
                          t(`tenants.role_${m.role}`)
                        )}
                      </Table.Td>
                      <Table.Td>{formatDateTime(m.joinedAt, timeZone, i18n.language)}</Table.Td>
                      <Table.Td>
                        {(manageable || m.isMe) && (
                          <Button
                            variant="outline"
                            color="red"
                            size="compact-sm"
                            onClick={() => setConfirm({ kind: "remove", member: m })}
                          >
                            {m.isMe ? t("team.leave") : t("team.remove")}
                            <VisuallyHidden> {m.email}</VisuallyHidden>
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>

      <Title order={2} size="h3">
        {t("team.pending")}
      </Title>
      <QueryState query={invitations}>
        {(open) =>
          open.length === 0 ? (
            <Text>{t("team.noPending")}</Text>
          ) : (
            <Table.ScrollContainer minWidth={560}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t("team.email")}</Table.Th>
                    <Table.Th>{t("team.role")}</Table.Th>
                    <Table.Th>{t("team.expires")}</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>{t("team.actions")}</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {open.map((i) => (
                    <Table.Tr key={i.id}>
                      <Table.Td>{i.email}</Table.Td>
                      <Table.Td>{t(`tenants.role_${i.role}`)}</Table.Td>
                      <Table.Td>{formatDateTime(i.expiresAt, timeZone, i18n.language)}</Table.Td>
                      <Table.Td>
                        {(myRole === "owner" || i.role !== "owner") && (
                          <Button
                            variant="outline"
                            color="red"
                            size="compact-sm"
                            onClick={() => setConfirm({ kind: "revoke", id: i.id, email: i.email })}
                          >
                            {t("team.revoke")}
                            <VisuallyHidden> {i.email}</VisuallyHidden>
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </QueryState>

      <Modal
        opened={confirm !== null}
        onClose={() => setConfirm(null)}
        title={confirm?.kind === "revoke" ? t("team.confirmRevokeTitle") : t("team.confirmRemoveTitle")}
        closeButtonProps={{ "aria-label": t("team.cancel") }}
        // In place, not portalled: its <header> then sits inside <main> and is no second banner.
        withinPortal={false}
      >
        <Stack>
          <Text>
            {confirm?.kind === "revoke"
              ? t("team.confirmRevoke", { email: confirm.email })
              : confirm?.member.isMe
                ? t("team.confirmLeave")
                : t("team.confirmRemove", { email: confirm?.member.email ?? "" })}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirm(null)}>
              {t("team.cancel")}
            </Button>
            <Button color="red" loading={remove.isPending || revoke.isPending} onClick={onConfirm}>
              {confirm?.kind === "revoke"
                ? t("team.revoke")
                : confirm?.member.isMe
                  ? t("team.leave")
                  : t("team.remove")}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
