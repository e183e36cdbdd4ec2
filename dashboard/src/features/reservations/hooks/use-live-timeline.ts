import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { supabase } from "../../../lib/supabase";

// The reservation's messages through Realtime's Postgres Changes (RLS applies to each change):
// any insert or update refetches the timeline. Returns whether the channel is subscribed; while
// it is not, the timeline falls back to polling.
export function useLiveTimeline(tenantId: string, reservationId: string): boolean {
  const client = useQueryClient();
  const [live, setLive] = useState(false);

  useEffect(() => {
    const channel = supabase
      .channel(`timeline:${reservationId}`)
      .on(
        "postgres_changes",
        { event: "*", schema: "public", table: "message_logs", filter: `reservation_id=eq.${reservationId}` },
        () => void client.invalidateQueries({ queryKey: ["timeline", tenantId, reservationId] }),
      )
      .subscribe((status) => {
        setLive(status === "SUBSCRIBED");
        // Changes made while the channel was not yet listening.
        if (status === "SUBSCRIBED") void client.invalidateQueries({ queryKey: ["timeline", tenantId, reservationId] });
      });
    return () => {
      setLive(false);
      void supabase.removeChannel(channel);
    };
  }, [client, tenantId, reservationId]);

  return live;
}
