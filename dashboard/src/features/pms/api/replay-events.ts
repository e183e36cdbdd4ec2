import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { UserFacingError } from "../../../lib/errors";
import { toPmsError } from "./errors";

// true: back in the queue; false: it was not dead-lettered (already replayed, a double click).
export async function replayEvent(id: number): Promise<boolean> {
  const { data, error } = await supabase.rpc("replay_inbound_event", { p_event_id: id });
  if (error) throw toPmsError(error);
  if (typeof data !== "boolean") throw new UserFacingError("errors.unknown");
  return data;
}

export interface ReplayOutcome {
  taken: number;
  refused: Record<string, number>;
}

export async function replayEvents(tenantId: string, ids: number[]): Promise<ReplayOutcome> {
  const { data, error } = await supabase.rpc("replay_inbound_events", { p_tenant_id: tenantId, p_ids: ids });
  if (error) throw toPmsError(error);
  const outcome = data as ReplayOutcome | null;
  if (!outcome || typeof outcome.taken !== "number") throw new UserFacingError("errors.unknown");
  return { taken: outcome.taken, refused: outcome.refused ?? {} };
}

function useRefresh(tenantId: string) {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: ["pms-failed-events", tenantId] });
    void client.invalidateQueries({ queryKey: ["pms-connections", tenantId] });
  };
}

export function useReplayEvent(tenantId: string) {
  return useMutation({ mutationFn: replayEvent, onSettled: useRefresh(tenantId) });
}

export function useReplayEvents(tenantId: string) {
  return useMutation({ mutationFn: (ids: number[]) => replayEvents(tenantId, ids), onSettled: useRefresh(tenantId) });
}
