import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toPmsError } from "./errors";

export type EventStatus = "pending" | "processing" | "succeeded" | "ignored" | "dead";

export interface ReplayedEvent {
  id: number;
  eventType: string;
  status: EventStatus;
  attempts: number;
  lastError: string | null;
}

interface Row {
  id: number;
  event_type: string;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
}

export function isSettled(e: ReplayedEvent): boolean {
  return e.status === "succeeded" || e.status === "ignored" || e.status === "dead";
}

// How the events replayed from this page came out: processed, or failed again.
export async function getReplayedEvents(tenantId: string, ids: number[]): Promise<ReplayedEvent[]> {
  if (ids.length === 0) return [];
  const { data, error } = await supabase
    .from("inbound_events")
    .select("id, event_type, status, attempts, last_error")
    .eq("tenant_id", tenantId)
    .in("id", ids)
    .order("id", { ascending: false })
    .returns<Row[]>();
  if (error) throw toPmsError(error);
  return data.map((r) => ({
    id: r.id,
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}

// Asked again every 2 seconds until each has been processed or has failed again.
export const replayedEventsQueryOptions = (tenantId: string, ids: number[]) =>
  queryOptions({
    queryKey: ["pms-replayed-events", tenantId, [...ids].sort((a, b) => a - b)],
    queryFn: () => getReplayedEvents(tenantId, ids),
    refetchInterval: (query) => (query.state.data?.every(isSettled) ? false : 2_000),
  });

export function useReplayedEvents(tenantId: string, ids: number[]) {
  return useQuery({ ...replayedEventsQueryOptions(tenantId, ids), enabled: ids.length > 0 });
}
