import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export type ActionStatus = "failed" | "dead";

export interface ActionMessage {
  id: number;
  reservationId: string | null;
  templateKey: string;
  status: ActionStatus;
  lastError: string | null;
  updatedAt: string;
  guestName: string | null;
}

interface Row {
  id: number;
  reservation_id: string | null;
  template_key: string;
  status: ActionStatus;
  last_error: string | null;
  updated_at: string;
  guests: { full_name: string | null } | null;
}

export const LIMIT = 200;

export async function getMessagesNeedingAction(tenantId: string, statuses: ActionStatus[]): Promise<ActionMessage[]> {
  const { data, error } = await supabase
    .from("message_logs")
    .select("id, reservation_id, template_key, status, last_error, updated_at, guests(full_name)")
    .eq("tenant_id", tenantId)
    .in("status", statuses)
    .order("updated_at", { ascending: false })
    .order("id", { ascending: false })
    .limit(LIMIT)
    .returns<Row[]>();
  if (error) throw toUserError(error);
  return data.map((r) => ({
    id: r.id,
    reservationId: r.reservation_id,
    templateKey: r.template_key,
    status: r.status,
    lastError: r.last_error,
    updatedAt: r.updated_at,
    guestName: r.guests?.full_name ?? null,
  }));
}

export const messagesNeedingActionQueryOptions = (tenantId: string, statuses: ActionStatus[]) =>
  queryOptions({
    queryKey: ["messages-needing-action", tenantId, [...statuses].sort()],
    queryFn: () => getMessagesNeedingAction(tenantId, statuses),
  });

export function useMessagesNeedingAction(tenantId: string, statuses: ActionStatus[]) {
  return useQuery(messagesNeedingActionQueryOptions(tenantId, statuses));
}
