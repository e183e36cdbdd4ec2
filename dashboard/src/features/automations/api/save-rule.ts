import { supabase } from "../../../lib/supabase";
import { toAutomationsError } from "./errors";
import { WITH_OFFSET, type RuleInput } from "./types";

export async function saveRule(tenantId: string, id: string | null, rule: RuleInput): Promise<void> {
  const row = {
    name: rule.name.trim(),
    trigger: rule.trigger,
    offset_days: WITH_OFFSET.includes(rule.trigger) ? rule.offsetDays : 0,
    send_at_local: rule.sendAtLocal || null,
    template_key: rule.templateKey,
    property_id: rule.propertyId,
    is_active: rule.isActive,
  };
  const { error } = id
    ? await supabase.from("automation_rules").update(row).eq("id", id).eq("tenant_id", tenantId).select("id").single()
    : await supabase
        .from("automation_rules")
        .insert({ ...row, tenant_id: tenantId })
        .select("id")
        .single();
  if (error) throw toAutomationsError(error.code === "PGRST116" ? { code: "PT404" } : error, "rule");
}
