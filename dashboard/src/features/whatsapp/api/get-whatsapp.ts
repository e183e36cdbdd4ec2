import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

// The hotel's WhatsApp connection as the database keeps it (every member may read it): the
// session's status as the worker last recorded it from WAHA's webhooks, the pause, the pacing.
export interface WhatsappState {
  sessionName: string;
  status: string;
  statusChangedAt: string;
  // Why sends wait, when they do: the system's pause (session down, API key refused) or a hold.
  pausedReason: string | null;
  hold: { reason: string; at: string; byEmail: string | null } | null;
  gapMinMs: number;
  gapMaxMs: number;
}

interface Row {
  session_name: string;
  session_status: string;
  status_changed_at: string;
  sends_paused_reason: string | null;
  send_gap_min_ms: number;
  send_gap_max_ms: number;
}

interface HoldRow {
  reason: string;
  held_at: string;
  held_by_email: string | null;
}

// null: the hotel has no WhatsApp connection yet.
export async function getWhatsapp(tenantId: string): Promise<WhatsappState | null> {
  const [config, hold] = await Promise.all([
    supabase
      .from("waha_configurations")
      .select("session_name, session_status, status_changed_at, sends_paused_reason, send_gap_min_ms, send_gap_max_ms")
      .eq("tenant_id", tenantId)
      .maybeSingle<Row>(),
    supabase.rpc("sending_hold", { p_tenant_id: tenantId }),
  ]);
  if (config.error) throw toUserError(config.error);
  if (!config.data) return null;
  if (hold.error) throw toUserError(hold.error);
  const held = ((hold.data ?? []) as HoldRow[])[0];
  return {
    sessionName: config.data.session_name,
    status: config.data.session_status,
    statusChangedAt: config.data.status_changed_at,
    pausedReason: config.data.sends_paused_reason,
    hold: held ? { reason: held.reason, at: held.held_at, byEmail: held.held_by_email } : null,
    gapMinMs: config.data.send_gap_min_ms,
    gapMaxMs: config.data.send_gap_max_ms,
  };
}

// Polled: the table is not in the Realtime publication (it changes on every send).
export const whatsappQueryOptions = (tenantId: string) =>
  queryOptions({ queryKey: ["whatsapp", tenantId], queryFn: () => getWhatsapp(tenantId), refetchInterval: 15_000 });

export function useWhatsapp(tenantId: string) {
  return useQuery(whatsappQueryOptions(tenantId));
}
