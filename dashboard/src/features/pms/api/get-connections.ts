import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toPmsError } from "./errors";

export type AuthScheme = "standard_webhooks" | "token" | "basic";

export interface PmsConnection {
  id: string;
  provider: string;
  authScheme: AuthScheme;
  isActive: boolean;
  health: "unknown" | "ok" | "failing";
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSuccessAt: string | null;
  credentialsSetAt: string | null;
  webhookSecretSetAt: string | null;
  syncPausedReason: string | null;
  // The newest webhook event received from this PMS.
  lastEventAt: string | null;
}

export interface PmsConnections {
  // Routes the PMS's webhooks to this hotel (not a credential; the secret is).
  webhookKey: string;
  connections: PmsConnection[];
}

interface Row {
  id: string;
  provider: string;
  auth_scheme: AuthScheme;
  is_active: boolean;
  health: PmsConnection["health"];
  consecutive_failures: number;
  last_error: string | null;
  last_error_at: string | null;
  last_success_at: string | null;
  credentials_set_at: string | null;
  webhook_secret_set_at: string | null;
  sync_paused_reason: string | null;
}

async function lastEventAt(tenantId: string, provider: string): Promise<string | null> {
  const { data, error } = await supabase
    .from("inbound_events")
    .select("received_at")
    .eq("tenant_id", tenantId)
    .eq("source", "pms")
    .eq("provider", provider)
    .order("received_at", { ascending: false })
    .limit(1)
    .returns<{ received_at: string }[]>();
  if (error) throw toPmsError(error);
  return data[0]?.received_at ?? null;
}

export async function getConnections(tenantId: string): Promise<PmsConnections> {
  const [tenant, configs] = await Promise.all([
    supabase.from("tenants").select("webhook_key").eq("id", tenantId).single<{ webhook_key: string }>(),
    supabase
      .from("pms_configurations")
      .select(
        "id, provider, auth_scheme, is_active, health, consecutive_failures, last_error, last_error_at," +
          " last_success_at, credentials_set_at, webhook_secret_set_at, sync_paused_reason",
      )
      .eq("tenant_id", tenantId)
      .order("provider")
      .returns<Row[]>(),
  ]);
  if (tenant.error) throw toPmsError(tenant.error);
  if (configs.error) throw toPmsError(configs.error);
  const events = await Promise.all(configs.data.map((c) => lastEventAt(tenantId, c.provider)));
  return {
    webhookKey: tenant.data.webhook_key,
    connections: configs.data.map((c, i) => ({
      id: c.id,
      provider: c.provider,
      authScheme: c.auth_scheme,
      isActive: c.is_active,
      health: c.health,
      consecutiveFailures: c.consecutive_failures,
      lastError: c.last_error,
      lastErrorAt: c.last_error_at,
      lastSuccessAt: c.last_success_at,
      credentialsSetAt: c.credentials_set_at,
      webhookSecretSetAt: c.webhook_secret_set_at,
      syncPausedReason: c.sync_paused_reason,
      lastEventAt: events[i] ?? null,
    })),
  };
}

export const connectionsQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: ["pms-connections", tenantId],
    queryFn: () => getConnections(tenantId),
    refetchInterval: 30_000,
  });

export function useConnections(tenantId: string) {
  return useQuery(connectionsQueryOptions(tenantId));
}
