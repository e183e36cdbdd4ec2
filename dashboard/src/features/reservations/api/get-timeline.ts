import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import type { TimelineEntry } from "./search-reservations";

const SELECT = "id, template_key, status, scheduled_for, sent_at, delivered_at, read_at, last_error, updated_at";
// Statuses a message leaves by itself soon: queued, sending, and sent or delivered (awaiting ticks).
const MOVING = new Set(["queued", "sending", "sent", "delivered"]);
const RECENT_MS = 10 * 60_000;

export function isMoving(entries: TimelineEntry[], now: number = Date.now()): boolean {
  return entries.some((m) => MOVING.has(m.status) && now - new Date(m.updated_at).getTime() < RECENT_MS);
}

export async function getTimeline(tenantId: string, reservationId: string): Promise<TimelineEntry[]> {
  const { data, error } = await supabase
    .from("message_logs")
    .select(SELECT)
    .eq("tenant_id", tenantId)
    .eq("reservation_id", reservationId)
    .order("scheduled_for")
    .order("id")
    .returns<TimelineEntry[]>();
  if (error) throw toUserError(error);
  return data;
}

// Realtime pushes the changes (hooks/use-live-timeline.ts). Without it (`live` false), the
// timeline is asked again every few seconds while a message is on its way.
export const timelineQueryOptions = (tenantId: string, reservationId: string, live = false) =>
  queryOptions({
    queryKey: ["timeline", tenantId, reservationId],
    queryFn: () => getTimeline(tenantId, reservationId),
    refetchInterval: (query) => (!live && query.state.data && isMoving(query.state.data) ? 2000 : false),
  });

export function useTimeline(tenantId: string, reservationId: string, live = false) {
  return useQuery(timelineQueryOptions(tenantId, reservationId, live));
}
