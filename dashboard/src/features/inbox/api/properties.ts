import { useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface Property {
  id: string;
  name: string;
}

export async function getProperties(tenantId: string): Promise<Property[]> {
  const { data, error } = await supabase
    .from("properties")
    .select("id, name")
    .eq("tenant_id", tenantId)
    .order("name")
    .returns<Property[]>();
  if (error) throw toUserError(error);
  return data;
}

export function useProperties(tenantId: string) {
  return useQuery({ queryKey: ["inbox-properties", tenantId], queryFn: () => getProperties(tenantId), staleTime: 300_000 });
}
