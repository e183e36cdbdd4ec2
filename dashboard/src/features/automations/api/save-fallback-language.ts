import { supabase } from "../../../lib/supabase";
import { toAutomationsError } from "./errors";

export async function saveFallbackLanguage(tenantId: string, language: string): Promise<void> {
  const { error } = await supabase
    .from("tenants")
    .update({ default_language: language })
    .eq("id", tenantId)
    .select("id")
    .single();
  if (error) throw toAutomationsError(error.code === "PGRST116" ? { code: "PT404" } : error, "hotel");
}
