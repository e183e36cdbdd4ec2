import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError } from "../../../lib/errors";

// What came of a resend: queued, already on its way (a double click), or refused with a reason code.
export type ResendOutcome = { kind: "queued" } | { kind: "on_its_way" } | { kind: "refused"; code: string };

export async function resendMessage(id: number): Promise<ResendOutcome> {
  const { data, error } = await supabase.rpc("resend_message", { p_message_id: id });
  if (error) {
    // 23514: refused, the reason's code in the details (resend_with_reasons.sql).
    if (error.code === "23514" && error.details) return { kind: "refused", code: error.details };
    throw toUserError(error);
  }
  if (typeof data !== "boolean") throw new UserFacingError("errors.unknown");
  return data ? { kind: "queued" } : { kind: "on_its_way" };
}

export function useResendMessage(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: resendMessage,
    // Not awaited: the outcome shows at once, the list catches up.
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ["messages-needing-action", tenantId] });
    },
  });
}
