import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { supabase } from "../../../lib/supabase";
import { inboxKeys } from "../api/keys";
import { totalUnread, useUnreadCounts } from "../api/unread-counts";

// The nav's unread count on every screen: a new guest message (a change to the hotel's
// conversations, through Realtime under RLS) refreshes it.
export function useInboxBadge(tenantId: string): number {
  const client = useQueryClient();
  const counts = useUnreadCounts(tenantId);

  useEffect(() => {
    const channel = supabase
      .channel(`inbox-badge:${tenantId}`)
      .on(
        "postgres_changes",
        { event: "*", schema: "public", table: "conversations", filter: `tenant_id=eq.${tenantId}` },
        () => void client.invalidateQueries({ queryKey: inboxKeys.counts(tenantId) }),
      )
      .subscribe();
    return () => void supabase.removeChannel(channel);
  }, [client, tenantId]);

  return totalUnread(counts.data);
}
