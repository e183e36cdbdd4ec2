import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface Health {
  whatsapp: { status: string; pausedReason: string | null; changedAt: string } | null;
  pms: { provider: string; health: string; lastError: string | null; lastSuccessAt: string | null }[];
}

export async function getHealth(tenantId: string): Promise<Health> {
  const [waha, pms] = await Promise.all([
    supabase
      .from("waha_configurations")
      .select("session_status, sends_paused_reason, status_changed_at")
      .eq("tenant_id", tenantId)
      .maybeSingle<{ session_status: string; sends_paused_reason: string | null; status_changed_at: string }>(),
    supabase
      .from("pms_configurations")
      .select("provider, health, last_error, last_success_at")
      .eq("tenant_id", tenantId)
      .order("provider")
      .returns<{ provider: string; health: string; last_error: string | null; last_success_at: string | null }[]>(),
  ]);
  if (waha.error) throw toUserError(waha.error);
  if (pms.error) throw toUserError(pms.error);
  return {
    whatsapp: waha.data
      ? {
          status: waha.data.session_status,
          pausedReason: waha.data.sends_paused_reason,
          changedAt: waha.data.status_changed_at,
        }
      : null,
    pms: pms.data.map((p) => ({
      provider: p.provider,
      health: p.health,
      lastError: p.last_error,
      lastSuccessAt: p.last_success_at,
    })),
  };
}

export const healthQueryOptions = (tenantId: string) =>
  queryOptions({ queryKey: ["health", tenantId], queryFn: () => getHealth(tenantId), refetchInterval: 30_000 });

export function useHealth(tenantId: string) {
  return useQuery(healthQueryOptions(tenantId));
}
