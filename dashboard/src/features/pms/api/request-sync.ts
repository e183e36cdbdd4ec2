import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { UserFacingError } from "../../../lib/errors";
import { toPmsError } from "./errors";

export type ManualSyncKind = "incremental" | "full";

// "Sync now": the job's id, to follow it in the history. Asking again while one waits gives
// the waiting one.
export async function requestSync(configurationId: string, kind: ManualSyncKind): Promise<string> {
  const { data, error } = await supabase.rpc("request_sync", { p_pms_configuration_id: configurationId, p_kind: kind });
  if (error) throw toPmsError(error);
  if (typeof data !== "string") throw new UserFacingError("errors.unknown");
  return data;
}

export function useRequestSync(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ configurationId, kind }: { configurationId: string; kind: ManualSyncKind }) =>
      requestSync(configurationId, kind),
    onSettled: () => client.invalidateQueries({ queryKey: ["pms-sync-jobs", tenantId] }),
  });
}
