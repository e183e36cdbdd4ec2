import { createContext, useContext, type ReactNode } from "react";
import type { Membership, Role } from "../api/get-memberships";

// The hotel the screens show, chosen by the URL (/t/:tenantId/...) among the user's memberships.
const TenantContext = createContext<Membership | null>(null);

export function TenantProvider({ membership, children }: { membership: Membership; children: ReactNode }) {
  return <TenantContext.Provider value={membership}>{children}</TenantContext.Provider>;
}

export function useTenant(): Membership {
  const tenant = useContext(TenantContext);
  if (!tenant) throw new Error("useTenant outside TenantProvider");
  return tenant;
}

// What each role may do; the database's RLS and RPC checks are the guard, this only hides buttons.
const RIGHTS: Record<Role, { resend: boolean }> = {
  owner: { resend: true },
  admin: { resend: true },
  staff: { resend: false },
};

export function useCan(right: keyof (typeof RIGHTS)[Role]): boolean {
  return RIGHTS[useTenant().role][right];
}
