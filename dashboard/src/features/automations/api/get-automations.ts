import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import type { Automations, Template, Trigger } from "./types";

const hhmm = (t: string | null): string | null => (t ? t.slice(0, 5) : null);

interface RuleRow {
  id: string;
  name: string;
  trigger: Trigger;
  offset_days: number;
  send_at_local: string | null;
  template_key: string;
  property_id: string | null;
  is_active: boolean;
}

export async function getAutomations(tenantId: string): Promise<Automations> {
  const [rules, templates, properties, tenant] = await Promise.all([
    supabase
      .from("automation_rules")
      .select("id, name, trigger, offset_days, send_at_local, template_key, property_id, is_active")
      .eq("tenant_id", tenantId)
      .order("name")
      .returns<RuleRow[]>(),
    supabase
      .from("message_templates")
      .select("id, key, language, body")
      .eq("tenant_id", tenantId)
      .order("key")
      .order("language")
      .returns<Template[]>(),
    supabase
      .from("properties")
      .select("id, name, timezone, quiet_hours_start, quiet_hours_end")
      .eq("tenant_id", tenantId)
      .order("name")
      .returns<{ id: string; name: string; timezone: string; quiet_hours_start: string; quiet_hours_end: string }[]>(),
    supabase.from("tenants").select("default_language").eq("id", tenantId).maybeSingle<{ default_language: string }>(),
  ]);
  const error = rules.error ?? templates.error ?? properties.error ?? tenant.error;
  if (error) throw toUserError(error);
  return {
    rules: (rules.data ?? []).map((r) => ({
      id: r.id,
      name: r.name,
      trigger: r.trigger,
      offsetDays: r.offset_days,
      sendAtLocal: hhmm(r.send_at_local),
      templateKey: r.template_key,
      propertyId: r.property_id,
      isActive: r.is_active,
    })),
    templates: templates.data ?? [],
    properties: (properties.data ?? []).map((p) => ({
      id: p.id,
      name: p.name,
      timezone: p.timezone,
      quietHoursStart: hhmm(p.quiet_hours_start) ?? "",
      quietHoursEnd: hhmm(p.quiet_hours_end) ?? "",
    })),
    fallbackLanguage: tenant.data?.default_language ?? "en",
  };
}

export const automationsQueryOptions = (tenantId: string) =>
  queryOptions({ queryKey: ["automations", tenantId], queryFn: () => getAutomations(tenantId) });

export function useAutomations(tenantId: string) {
  return useQuery(automationsQueryOptions(tenantId));
}
