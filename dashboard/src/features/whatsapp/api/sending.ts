import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

// Pausing sending by hand (with a reason) and resuming: owners and admins (the RPCs check).
export const REASON_MAX = 500;

export async function pauseSending(tenantId: string, reason: string): Promise<void> {
  const { error } = await supabase.rpc("pause_tenant_sends", { p_tenant_id: tenantId, p_reason: reason });
  if (error) throw toUserError(error);
}

// false: sending was not paused by hand (someone resumed it already).
export async function resumeSending(tenantId: string): Promise<boolean> {
  const { data, error } = await supabase.rpc("resume_tenant_sends", { p_tenant_id: tenantId });
  if (error) throw toUserError(error);
  return data === true;
}

export function usePauseSending(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (reason: string) => pauseSending(tenantId, reason),
    // Not awaited: the result shows at once, the screen catches up.
    onSettled: () => void client.invalidateQueries({ queryKey: ["whatsapp", tenantId] }),
  });
}

export function useResumeSending(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => resumeSending(tenantId),
    // Not awaited: the result shows at once, the screen catches up.
    onSettled: () => void client.invalidateQueries({ queryKey: ["whatsapp", tenantId] }),
  });
}
