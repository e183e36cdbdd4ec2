import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import { inboxKeys } from "./keys";
import type { UnreadCount } from "./types";

export async function getUnreadCounts(tenantId: string): Promise<UnreadCount[]> {
  const { data, error } = await supabase
    .rpc("inbox_unread_counts", { p_tenant_id: tenantId });
  if (error) throw toUserError(error);
  return (data ?? []) as UnreadCount[];
}

// The signed-in member's unread conversations in the whole hotel.
export function totalUnread(counts: UnreadCount[] | undefined): number {
  return (counts ?? []).reduce((sum, c) => sum + c.unread_conversations, 0);
}

export const unreadCountsQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: inboxKeys.counts(tenantId),
    queryFn: () => getUnreadCounts(tenantId),
    // Realtime refreshes it while the inbox is open; elsewhere it is asked again now and then.
    refetchInterval: 30_000,
  });

export function useUnreadCounts(tenantId: string) {
  return useQuery(unreadCountsQueryOptions(tenantId));
}
