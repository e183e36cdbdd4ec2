import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { supabase } from "../../../lib/supabase";
import { inboxKeys } from "../api/keys";

const TABLES = ["conversations", "conversation_messages", "conversation_notes"] as const;

// The hotel's conversations, their messages (new ones, and ticks) and notes through Realtime's
// Postgres Changes; RLS applies to each change, so another hotel's never arrive. Any change
// refreshes the inbox's queries. Returns whether the channel is subscribed; while it is not, the
// inbox polls.
export function useLiveInbox(tenantId: string): boolean {
  const client = useQueryClient();
  const [live, setLive] = useState(false);

  useEffect(() => {
    const refresh = () => void client.invalidateQueries({ queryKey: inboxKeys.all(tenantId) });
    let channel = supabase.channel(`inbox:${tenantId}`);
    for (const table of TABLES) {
      channel = channel.on("postgres_changes", { event: "*", schema: "public", table, filter: `tenant_id=eq.${tenantId}` }, refresh);
    }
    channel.subscribe((status) => {
      setLive(status === "SUBSCRIBED");
      // Changes made while the channel was not yet listening.
      if (status === "SUBSCRIBED") refresh();
    });
    return () => {
      setLive(false);
      void supabase.removeChannel(channel);
    };
  }, [client, tenantId]);

  // Without a channel (a proxy that drops websockets, a network change), the inbox asks again
  // every few seconds until the channel is back.
  useEffect(() => {
    if (live) return;
    const timer = setInterval(() => void client.invalidateQueries({ queryKey: inboxKeys.all(tenantId) }), 10_000);
    return () => clearInterval(timer);
  }, [client, tenantId, live]);

  return live;
}
