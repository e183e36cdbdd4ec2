import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toPmsError } from "./errors";

// dead: given up, waits for a person to replay it. retrying: failed, tried again automatically.
export type EventProblem = "dead" | "retrying";

export interface FailedEvent {
  id: number;
  provider: string;
  eventType: string;
  eventId: string;
  problem: EventProblem;
  attempts: number;
  replayCount: number;
  lastError: string | null;
  receivedAt: string;
  updatedAt: string;
  nextAttemptAt: string;
}

interface Row {
  id: number;
  provider: string;
  event_type: string;
  event_id: string;
  status: "pending" | "dead";
  attempts: number;
  replay_count: number;
  last_error: string | null;
  received_at: string;
  updated_at: string;
  next_attempt_at: string;
}

export const LIMIT = 200;

// The hotel's PMS webhook events that went wrong: dead-lettered ones, and those waiting to be
// retried after a failure.
export async function getFailedEvents(tenantId: string): Promise<FailedEvent[]> {
  const { data, error } = await supabase
    .from("inbound_events")
    .select("id, provider, event_type, event_id, status, attempts, replay_count, last_error, received_at, updated_at, next_attempt_at")
    .eq("tenant_id", tenantId)
    .eq("source", "pms")
    .or("status.eq.dead,and(status.eq.pending,attempts.gt.0)")
    .order("updated_at", { ascending: false })
    .order("id", { ascending: false })
    .limit(LIMIT)
    .returns<Row[]>();
  if (error) throw toPmsError(error);
  return data.map((r) => ({
    id: r.id,
    provider: r.provider,
    eventType: r.event_type,
    eventId: r.event_id,
    problem: r.status === "dead" ? "dead" : "retrying",
    attempts: r.attempts,
    replayCount: r.replay_count,
    lastError: r.last_error,
    receivedAt: r.received_at,
    updatedAt: r.updated_at,
    nextAttemptAt: r.next_attempt_at,
  }));
}

export const failedEventsQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: ["pms-failed-events", tenantId],
    queryFn: () => getFailedEvents(tenantId),
    refetchInterval: 15_000,
  });

export function useFailedEvents(tenantId: string) {
  return useQuery(failedEventsQueryOptions(tenantId));
}
