import { supabase } from "../../../lib/supabase";
import { toAutomationsError } from "./errors";

export async function saveTemplate(
  tenantId: string,
  id: string | null,
  template: { key: string; language: string; body: string },
): Promise<void> {
  const { error } = id
    ? await supabase
        .from("message_templates")
        .update({ body: template.body })
        .eq("id", id)
        .eq("tenant_id", tenantId)
        .select("id")
        .single()
    : await supabase
        .from("message_templates")
        .insert({ tenant_id: tenantId, key: template.key, language: template.language, body: template.body })
        .select("id")
        .single();
  if (error) throw toAutomationsError(error.code === "PGRST116" ? { code: "PT404" } : error, "template");
}
