import { useMutation, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { UserFacingError } from "../../../lib/errors";
import type { AuthScheme } from "./get-connections";
import { toPmsError } from "./errors";

export const PROVIDERS = ["apaleo", "mews", "cloudbeds", "guesty", "generic"] as const;
export type Provider = (typeof PROVIDERS)[number];

// How each PMS proves its webhooks are genuine (docs/pms/README.md, "Per vendor").
export const DEFAULT_SCHEME: Record<Provider, AuthScheme> = {
  apaleo: "basic",
  mews: "token",
  cloudbeds: "token",
  guesty: "standard_webhooks",
  generic: "standard_webhooks",
};

// The API credentials each PMS needs (set_pms_credentials), written once and never read back.
export const CREDENTIAL_FIELDS: Record<Provider, string[]> = {
  apaleo: ["client_id", "client_secret"],
  mews: ["client_token", "access_token"],
  cloudbeds: ["api_key"],
  guesty: ["client_id", "client_secret"],
  generic: ["api_key"],
};

export interface NewConnection {
  provider: Provider;
  apiBaseUrl: string;
  externalAccountId: string;
}

// Owners and admins add a connection (RLS); the health and the secrets are the system's.
export async function addConnection(tenantId: string, c: NewConnection): Promise<string> {
  const { data, error } = await supabase
    .from("pms_configurations")
    .insert({
      tenant_id: tenantId,
      provider: c.provider,
      auth_scheme: DEFAULT_SCHEME[c.provider],
      api_base_url: c.apiBaseUrl.trim() || null,
      external_account_id: c.externalAccountId.trim() || null,
    })
    .select("id")
    .single<{ id: string }>();
  if (error) {
    if (error.code === "23505") throw new UserFacingError("pms.errors.alreadyConnected");
    // The outbound URL policy says why in words; a bare constraint name is not words.
    if (error.code === "23514")
      throw new UserFacingError(
        "errors.badInput",
        /violates check constraint/.test(error.message) ? undefined : error.message,
      );
    throw toPmsError(error);
  }
  return data.id;
}

export async function setCredentials(configurationId: string, credentials: Record<string, string>): Promise<void> {
  const { error } = await supabase.rpc("set_pms_credentials", {
    p_pms_configuration_id: configurationId,
    p_credentials: credentials,
  });
  if (error) {
    if (error.code === "23514") throw new UserFacingError("errors.badInput", error.message);
    throw toPmsError(error);
  }
}

export function useAddConnection(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (c: NewConnection) => addConnection(tenantId, c),
    onSettled: () => client.invalidateQueries({ queryKey: ["pms-connections", tenantId] }),
  });
}

export function useSetCredentials(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ configurationId, credentials }: { configurationId: string; credentials: Record<string, string> }) =>
      setCredentials(configurationId, credentials),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ["pms-connections", tenantId] });
      // The first credentials start the first (full) sync.
      void client.invalidateQueries({ queryKey: ["pms-sync-jobs", tenantId] });
    },
  });
}
