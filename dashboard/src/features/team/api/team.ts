import { FunctionsHttpError } from "@supabase/supabase-js";
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError, type ApiError } from "../../../lib/errors";

export type Role = "owner" | "admin" | "staff";

export interface TeamMember {
  userId: string;
  email: string;
  role: Role;
  joinedAt: string;
  isMe: boolean;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
}

// The refusals the team's RPCs give, in words (20261202005100_team_members.sql and the
// tenancy trigger that keeps an owner).
export function teamError(error: ApiError | null): UserFacingError {
  if (error?.code === "23514" && /owner/.test(error.message ?? "")) return new UserFacingError("team.lastOwner");
  if (error?.code === "42501" && /owner/.test(error.message ?? "")) return new UserFacingError("team.ownersOnly");
  if (error?.code === "23505") return new UserFacingError("team.alreadyMember");
  if (error?.code === "PT404") return new UserFacingError("team.gone");
  return toUserError(error);
}

export async function getTeam(tenantId: string): Promise<TeamMember[]> {
  const { data, error } = await supabase.rpc("team_members", { p_tenant_id: tenantId });
  if (error) throw teamError(error);
  return (data as { user_id: string; email: string; role: Role; joined_at: string; is_me: boolean }[]).map((r) => ({
    userId: r.user_id,
    email: r.email,
    role: r.role,
    joinedAt: r.joined_at,
    isMe: r.is_me,
  }));
}

export async function getInvitations(tenantId: string): Promise<Invitation[]> {
  const { data, error } = await supabase
    .from("tenant_invitations")
    .select("id, email, role, created_at, expires_at")
    .eq("tenant_id", tenantId)
    .is("accepted_at", null)
    .is("revoked_at", null)
    .gt("expires_at", new Date().toISOString())
    .order("created_at", { ascending: false });
  if (error) throw teamError(error);
  return data.map((r) => ({
    id: r.id as string,
    email: r.email as string,
    role: r.role as Role,
    createdAt: r.created_at as string,
    expiresAt: r.expires_at as string,
  }));
}

export const teamQuery = (tenantId: string) =>
  queryOptions({ queryKey: ["team", tenantId, "members"], queryFn: () => getTeam(tenantId) });
export const invitationsQuery = (tenantId: string) =>
  queryOptions({ queryKey: ["team", tenantId, "invitations"], queryFn: () => getInvitations(tenantId) });

export interface InviteResult {
  emailed: boolean;
  // Only for an address that has an account already: the link to pass on.
  link?: string;
}

export async function inviteMember(tenantId: string, email: string, role: Role): Promise<InviteResult> {
  const { data, error } = await supabase.functions.invoke<InviteResult>("team-invite", {
    body: { tenant_id: tenantId, email, role, redirect_to: new URL("/accept-invite", window.location.origin).href },
  });
  if (error) {
    if (error instanceof FunctionsHttpError) {
      const body = (await (error.context as Response).json().catch(() => ({}))) as { error?: string };
      switch (body.error) {
        case "already_member":
          throw new UserFacingError("team.alreadyMember");
        case "forbidden":
          throw new UserFacingError("team.ownersOnly");
        case "invalid_request":
          throw new UserFacingError("team.badEmail");
        case "rate_limited":
          throw new UserFacingError("team.tooManyEmails");
        case "not_found":
          throw new UserFacingError("team.gone");
      }
    }
    throw new UserFacingError("team.inviteFailed");
  }
  return { emailed: data?.emailed ?? true, link: data?.link };
}

export async function revokeInvitation(id: string): Promise<void> {
  const { error } = await supabase.rpc("revoke_invitation", { p_invitation_id: id });
  if (error) throw teamError(error);
}

export async function changeRole(tenantId: string, userId: string, role: Role): Promise<void> {
  const { error } = await supabase.rpc("change_member_role", {
    p_tenant_id: tenantId,
    p_user_id: userId,
    p_role: role,
  });
  if (error) throw teamError(error);
}

export async function removeMember(tenantId: string, userId: string): Promise<void> {
  const { error } = await supabase.rpc("remove_member", { p_tenant_id: tenantId, p_user_id: userId });
  if (error) throw teamError(error);
}

export function useTeam(tenantId: string) {
  return useQuery(teamQuery(tenantId));
}

export function useInvitations(tenantId: string) {
  return useQuery(invitationsQuery(tenantId));
}

// Every change refreshes the team's lists (members and invitations).
export function useTeamMutation<T>(tenantId: string, fn: (input: T) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    // The user's own role or membership may have changed too.
    onSettled: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: ["team", tenantId] }),
        client.invalidateQueries({ queryKey: ["memberships"] }),
      ]),
  });
}
