import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export type Role = "owner" | "admin" | "staff";

export interface Membership {
  tenantId: string;
  tenantName: string;
  role: Role;
  // The first property's timezone: where "today" is for the hotel.
  timezone: string;
}

interface Row {
  tenant_id: string;
  role: Role;
  tenants: { name: string; properties: { timezone: string; created_at: string }[] } | null;
}

export async function getMemberships(userId: string): Promise<Membership[]> {
  const { data, error } = await supabase
    .from("tenant_members")
    .select("tenant_id, role, tenants(name, properties(timezone, created_at))")
    .eq("user_id", userId)
    .returns<Row[]>();
  if (error) throw toUserError(error);
  return data
    .map((row) => {
      const properties = [...(row.tenants?.properties ?? [])].sort((a, b) => a.created_at.localeCompare(b.created_at));
      return {
        tenantId: row.tenant_id,
        tenantName: row.tenants?.name ?? "",
        role: row.role,
        timezone: properties[0]?.timezone ?? "UTC",
      };
    })
    .sort((a, b) => a.tenantName.localeCompare(b.tenantName));
}

export const membershipsQueryOptions = (userId: string) =>
  queryOptions({ queryKey: ["memberships", userId], queryFn: () => getMemberships(userId) });

export function useMemberships(userId: string) {
  return useQuery(membershipsQueryOptions(userId));
}
