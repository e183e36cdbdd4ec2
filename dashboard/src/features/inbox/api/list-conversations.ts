import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import { inboxKeys } from "./keys";
import type { ConversationSummary } from "./types";

export interface InboxFilters {
  status: "open" | "closed";
  // "me": assigned to the signed-in member; "unassigned": to nobody; "all": everyone's.
  assignee: "all" | "me" | "unassigned";
  search: string;
  // One property's conversations, or "" for the whole hotel.
  propertyId: string;
}

export async function listConversations(
  tenantId: string,
  userId: string,
  filters: InboxFilters,
): Promise<ConversationSummary[]> {
  const search = filters.search.trim();
  const { data, error } = await supabase
    .rpc("list_conversations", {
      p_tenant_id: tenantId,
      p_status: filters.status,
      p_property_id: filters.propertyId || undefined,
      p_search: search.length >= 2 ? search : undefined,
      p_assignee_id: filters.assignee === "me" ? userId : undefined,
      p_limit: 100,
    });
  if (error) throw toUserError(error);
  const rows = (data ?? []) as ConversationSummary[];
  return filters.assignee === "unassigned" ? rows.filter((c) => !c.assignee_id) : rows;
}

export const conversationsQueryOptions = (tenantId: string, userId: string, filters: InboxFilters) =>
  queryOptions({
    queryKey: inboxKeys.list(tenantId, filters),
    queryFn: () => listConversations(tenantId, userId, filters),
    placeholderData: keepPreviousData,
  });

export function useConversations(tenantId: string, userId: string, filters: InboxFilters) {
  return useQuery(conversationsQueryOptions(tenantId, userId, filters));
}
