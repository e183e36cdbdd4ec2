import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { supabase } from "./supabase";

export interface LiveTable {
  table: "message_logs";
  // Realtime's filter syntax, e.g. `tenant_id=eq.<id>`: only this hotel's rows are asked for, and
  // RLS decides again for each change (a user never receives another hotel's rows).
  filter: string;
}

// How long a burst of changes (a worker sending a batch) is gathered before the screen refetches
// once: invalidating on every change would cancel and restart the same request again and again.
export const SETTLE_MS = 300;

// A screen's queries refreshed through Realtime (Postgres Changes on `table`): each change
// invalidates `queryKeys` (prefix match). Returns whether the channel is subscribed, so the screen
// can say it updates live. On subscribing, the queries are invalidated once too: changes made
// before the channel listened are fetched.
export function useLiveQueries(channel: string, source: LiveTable, queryKeys: QueryKey[]): boolean {
  const client = useQueryClient();
  const [live, setLive] = useState(false);
  // The keys by value: a new array with the same keys does not resubscribe.
  const keys = JSON.stringify(queryKeys);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const parsed = JSON.parse(keys) as QueryKey[];
    const refresh = () => {
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        for (const queryKey of parsed) void client.invalidateQueries({ queryKey });
      }, SETTLE_MS);
    };
    // A topic of its own per mount: supabase-js hands back a channel with the same topic while
    // the previous one is still leaving (StrictMode's second mount, a quick back-and-forth), and
    // adding a binding to a subscribed channel throws.
    const topic = `${channel}:${Math.random().toString(36).slice(2, 10)}`;
    const subscription = supabase
      .channel(topic)
      .on("postgres_changes", { event: "*", schema: "public", table: source.table, filter: source.filter }, refresh)
      .subscribe((status) => {
        setLive(status === "SUBSCRIBED");
        if (status === "SUBSCRIBED") refresh();
      });
    return () => {
      setLive(false);
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
      void supabase.removeChannel(subscription);
    };
  }, [client, channel, source.table, source.filter, keys]);

  return live;
}
