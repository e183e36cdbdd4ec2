import { useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface Assignee {
  user_id: string;
  email: string;
  is_me: boolean;
}

// The hotel's members, whom a conversation can be assigned to.
export async function getAssignees(tenantId: string): Promise<Assignee[]> {
  const { data, error } = await supabase.rpc("inbox_assignees", { p_tenant_id: tenantId });
  if (error) throw toUserError(error);
  return (data ?? []) as Assignee[];
}

export function useAssignees(tenantId: string) {
  return useQuery({ queryKey: ["inbox-assignees", tenantId], queryFn: () => getAssignees(tenantId), staleTime: 300_000 });
}
