import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import { localDate } from "../../../lib/time";

export interface DayMessage {
  id: number;
  reservationId: string | null;
  templateKey: string;
  status: string;
  scheduledFor: string;
  lastError: string | null;
}

interface Row {
  id: number;
  reservation_id: string | null;
  template_key: string;
  status: string;
  scheduled_for: string;
  last_error: string | null;
}

const map = (r: Row): DayMessage => ({
  id: r.id,
  reservationId: r.reservation_id,
  templateKey: r.template_key,
  status: r.status,
  scheduledFor: r.scheduled_for,
  lastError: r.last_error,
});

// Messages still to go out on the hotel's local date. A local day is at most 26 hours long and
// lies within a day and a half of now, so that window is asked for and the rest filtered here.
export async function getDueToday(tenantId: string, timeZone: string, now: Date = new Date()): Promise<DayMessage[]> {
  const today = localDate(now, timeZone);
  const { data, error } = await supabase
    .from("message_logs")
    .select("id, reservation_id, template_key, status, scheduled_for, last_error")
    .eq("tenant_id", tenantId)
    .in("status", ["scheduled", "queued", "sending"])
    .gte("scheduled_for", new Date(now.getTime() - 36 * 3600_000).toISOString())
    .lt("scheduled_for", new Date(now.getTime() + 36 * 3600_000).toISOString())
    .order("scheduled_for")
    .limit(500)
    .returns<Row[]>();
  if (error) throw toUserError(error);
  return data.map(map).filter((m) => localDate(new Date(m.scheduledFor), timeZone) === today);
}

// The failed and dead messages, newest first (the first few; the messages screen has them all).
export async function getFailures(tenantId: string): Promise<{ rows: DayMessage[]; total: number }> {
  const { data, error, count } = await supabase
    .from("message_logs")
    .select("id, reservation_id, template_key, status, scheduled_for, last_error", { count: "exact" })
    .eq("tenant_id", tenantId)
    .in("status", ["failed", "dead"])
    .order("updated_at", { ascending: false })
    .limit(5)
    .returns<Row[]>();
  if (error) throw toUserError(error);
  return { rows: data.map(map), total: count ?? data.length };
}

export const dueTodayQueryOptions = (tenantId: string, timeZone: string) =>
  queryOptions({ queryKey: ["due-today", tenantId, timeZone], queryFn: () => getDueToday(tenantId, timeZone) });

export const failuresQueryOptions = (tenantId: string) =>
  queryOptions({ queryKey: ["failures", tenantId], queryFn: () => getFailures(tenantId) });

export function useDueToday(tenantId: string, timeZone: string) {
  return useQuery(dueTodayQueryOptions(tenantId, timeZone));
}

export function useFailures(tenantId: string) {
  return useQuery(failuresQueryOptions(tenantId));
}
