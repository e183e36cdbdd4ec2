import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderUi, testQueryClient } from "../../../test/render";
import { supabase } from "../../../lib/supabase";
import { invitationsQuery, teamError, teamQuery, type TeamMember } from "../api/team";
import { InviteForm, TeamScreen } from "./team-screen";

const TENANT = "11111111-1111-1111-1111-111111111111";
const members: TeamMember[] = [
  { userId: "u1", email: "owner@hotel.test", role: "owner", joinedAt: "2026-11-01T10:00:00Z", isMe: false },
  { userId: "u2", email: "me@hotel.test", role: "admin", joinedAt: "2026-11-02T10:00:00Z", isMe: true },
  { userId: "u3", email: "desk@hotel.test", role: "staff", joinedAt: "2026-11-03T10:00:00Z", isMe: false },
];

function screenAs(role: "owner" | "admin") {
  const client = testQueryClient();
  client.setQueryData(teamQuery(TENANT).queryKey, members);
  client.setQueryData(invitationsQuery(TENANT).queryKey, [
    {
      id: "i1",
      email: "new@hotel.test",
      role: "staff",
      createdAt: "2026-12-01T10:00:00Z",
      expiresAt: "2026-12-08T10:00:00Z",
    },
  ]);
  renderUi(<TeamScreen tenantId={TENANT} myRole={role} timeZone="Europe/Berlin" />, client);
}

describe("InviteForm", () => {
  it("offers only the roles the inviter may give and sends the address and role", async () => {
    const onInvite = vi.fn();
    renderUi(<InviteForm roles={["admin", "staff"]} pending={false} onInvite={onInvite} />);
    const role = screen.getByLabelText("Role");
    expect(within(role).queryByRole("option", { name: "Owner" })).toBeNull();
    await userEvent.click(screen.getByLabelText("E-mail", { exact: false }));
    await userEvent.paste(" new@hotel.test ");
    await userEvent.selectOptions(role, "admin");
    await userEvent.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(onInvite).toHaveBeenCalledWith("new@hotel.test", "admin");
  });
});

describe("TeamScreen", () => {
  it("lets an admin manage staff and admins but not the owner", () => {
    screenAs("admin");
    expect(screen.queryByLabelText("Role of owner@hotel.test")).toBeNull();
    expect(screen.getByLabelText("Role of desk@hotel.test")).toBeEnabled();
    expect(screen.queryByRole("button", { name: "Remove owner@hotel.test" })).toBeNull();
    expect(screen.getByRole("button", { name: "Leave me@hotel.test" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Withdraw new@hotel.test" })).toBeInTheDocument();
  });

  it("asks before removing someone and says why the database refused", async () => {
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue({
      data: null,
      error: { code: "23514", message: "a tenant must keep at least one owner", details: "", hint: "" },
    } as never);
    screenAs("owner");
    await userEvent.click(screen.getByRole("button", { name: "Remove owner@hotel.test" }));
    const dialog = await screen.findByRole("dialog", { name: "Remove from the team?" });
    expect(rpc).not.toHaveBeenCalled();
    await userEvent.click(within(dialog).getByRole("button", { name: "Remove" }));
    await waitFor(() =>
      expect(screen.getByRole("alert")).toHaveTextContent("A hotel must keep at least one owner."),
    );
    expect(rpc).toHaveBeenCalledWith("remove_member", { p_tenant_id: TENANT, p_user_id: "u1" });
    rpc.mockRestore();
  });
});

describe("teamError", () => {
  it("turns the RPCs' refusals into words, never the SQL message", () => {
    expect(teamError({ code: "42501", message: "only an owner can remove an owner" }).key).toBe("team.ownersOnly");
    expect(teamError({ code: "PT404", message: "member not found or not accessible" }).key).toBe("team.gone");
    expect(teamError({ code: "XX000", message: "boom" }).key).toBe("errors.unknown");
  });
});
