import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError } from "../../../lib/errors";

export interface BulkOutcome {
  taken: number;
  refused: Record<string, number>;
}

export async function resendMessages(tenantId: string, ids: number[]): Promise<BulkOutcome> {
  const { data, error } = await supabase.rpc("resend_messages", { p_tenant_id: tenantId, p_ids: ids });
  if (error) throw toUserError(error);
  const outcome = data as BulkOutcome | null;
  if (!outcome || typeof outcome.taken !== "number") throw new UserFacingError("errors.unknown");
  return { taken: outcome.taken, refused: outcome.refused ?? {} };
}

export function useResendMessages(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids: number[]) => resendMessages(tenantId, ids),
    // Not awaited: the outcome shows at once, the list catches up.
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ["messages-needing-action", tenantId] });
    },
  });
}
