import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toPmsError } from "./errors";

export type SyncStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";

export interface SyncJob {
  id: string;
  pmsConfigurationId: string;
  kind: "full" | "incremental" | "reservation";
  trigger: "schedule" | "manual" | "recovery" | "webhook" | "initial";
  status: SyncStatus;
  attempts: number;
  pages: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  error: string | null;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface Row {
  id: string;
  pms_configuration_id: string;
  kind: SyncJob["kind"];
  trigger: SyncJob["trigger"];
  status: SyncStatus;
  attempts: number;
  pages: number;
  created_count: number;
  updated_count: number;
  unchanged_count: number;
  failed_count: number;
  error: string | null;
  requested_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const HISTORY = 25;

export function isActive(job: SyncJob): boolean {
  return job.status === "pending" || job.status === "running";
}

// The hotel's newest syncs (sync_jobs_tenant_requested_idx), readable by every member (RLS):
// full and incremental runs. A webhook's fetch of one reservation is left out; there can be one
// per event, and they would push the runs (and the one "Sync now" follows) off the page.
export async function getSyncJobs(tenantId: string): Promise<SyncJob[]> {
  const { data, error } = await supabase
    .from("sync_jobs")
    .select(
      "id, pms_configuration_id, kind, trigger, status, attempts, pages, created_count, updated_count," +
        " unchanged_count, failed_count, error, requested_at, started_at, finished_at",
    )
    .eq("tenant_id", tenantId)
    .neq("kind", "reservation")
    .order("requested_at", { ascending: false })
    .limit(HISTORY)
    .returns<Row[]>();
  if (error) throw toPmsError(error);
  return data.map((r) => ({
    id: r.id,
    pmsConfigurationId: r.pms_configuration_id,
    kind: r.kind,
    trigger: r.trigger,
    status: r.status,
    attempts: r.attempts,
    pages: r.pages,
    created: r.created_count,
    updated: r.updated_count,
    unchanged: r.unchanged_count,
    failed: r.failed_count,
    error: r.error,
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  }));
}

// sync_jobs is not in the Realtime publication: while a sync waits or runs, the list is asked
// again every 2 seconds; otherwise every minute (scheduled syncs).
export const syncJobsQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: ["pms-sync-jobs", tenantId],
    queryFn: () => getSyncJobs(tenantId),
    refetchInterval: (query) => (query.state.data?.some(isActive) ? 2_000 : 60_000),
  });

export function useSyncJobs(tenantId: string) {
  return useQuery(syncJobsQueryOptions(tenantId));
}
