import { supabase } from "../../../lib/supabase";
import { toAutomationsError } from "./errors";

export async function saveQuietHours(tenantId: string, propertyId: string, start: string, end: string): Promise<void> {
  const { error } = await supabase
    .from("properties")
    .update({ quiet_hours_start: start, quiet_hours_end: end })
    .eq("id", propertyId)
    .eq("tenant_id", tenantId)
    .select("id")
    .single();
  if (error) throw toAutomationsError(error.code === "PGRST116" ? { code: "PT404" } : error, "hotel");
}
