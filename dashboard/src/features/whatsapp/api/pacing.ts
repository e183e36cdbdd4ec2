import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError, type ApiError } from "../../../lib/errors";

// The random gap between two sends, in milliseconds; the database has the same rules
// (set_waha_pacing) and names a broken one in the error's details.
export const GAP_LIMIT_MS = 600_000;

export type PacingProblem = "pacing_missing" | "pacing_negative" | "pacing_max_below_min" | "pacing_too_long";

export function pacingProblem(minMs: number | null, maxMs: number | null): PacingProblem | null {
  if (minMs === null || maxMs === null || Number.isNaN(minMs) || Number.isNaN(maxMs)) return "pacing_missing";
  if (minMs < 0 || maxMs < 0) return "pacing_negative";
  if (maxMs < minMs) return "pacing_max_below_min";
  if (maxMs > GAP_LIMIT_MS) return "pacing_too_long";
  return null;
}

export function pacingError(error: ApiError): UserFacingError {
  if (error.code === "22023" && error.details?.startsWith("pacing_")) {
    return new UserFacingError(`whatsapp.pacing.${error.details}`);
  }
  return toUserError(error);
}

export async function setPacing(tenantId: string, minMs: number, maxMs: number): Promise<void> {
  const { error } = await supabase.rpc("set_waha_pacing", {
    p_tenant_id: tenantId,
    p_send_gap_min_ms: minMs,
    p_send_gap_max_ms: maxMs,
  });
  if (error) throw pacingError(error);
}

export function useSetPacing(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ minMs, maxMs }: { minMs: number; maxMs: number }) => setPacing(tenantId, minMs, maxMs),
    // Not awaited: the result shows at once, the screen catches up.
    onSettled: () => void client.invalidateQueries({ queryKey: ["whatsapp", tenantId] }),
  });
}
