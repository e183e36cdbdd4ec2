import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError } from "../../../lib/errors";
import { toAutomationsError } from "./errors";

export const TRIGGERS = [
  "booking_confirmed",
  "before_arrival",
  "arrival_day",
  "after_departure",
  "booking_cancelled",
] as const;
export type Trigger = (typeof TRIGGERS)[number];

// Triggers that count days from the stay.
export const WITH_OFFSET: readonly Trigger[] = ["before_arrival", "after_departure"];

export interface Rule {
  id: string;
  name: string;
  trigger: Trigger;
  offsetDays: number;
  // "HH:MM", or null: as the trigger happens (events) or at check-in/check-out time (stays).
  sendAtLocal: string | null;
  templateKey: string;
  propertyId: string | null;
  isActive: boolean;
}

export interface Template {
  id: string;
  key: string;
  language: string;
  body: string;
}

export interface Property {
  id: string;
  name: string;
  timezone: string;
  quietHoursStart: string;
  quietHoursEnd: string;
}

export interface PreviewReservation {
  id: string;
  pmsReservationId: string;
  guestName: string | null;
  arrivalDate: string;
  departureDate: string;
}

export interface Automations {
  rules: Rule[];
  templates: Template[];
  properties: Property[];
  fallbackLanguage: string;
}

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

// The hotel's reservations to preview a template with, the latest arrivals first.
export async function getPreviewReservations(tenantId: string): Promise<PreviewReservation[]> {
  const { data, error } = await supabase
    .from("reservations")
    .select("id, pms_reservation_id, arrival_date, departure_date, guests(full_name)")
    .eq("tenant_id", tenantId)
    .order("arrival_date", { ascending: false })
    .limit(50)
    .returns<
      {
        id: string;
        pms_reservation_id: string;
        arrival_date: string;
        departure_date: string;
        guests: { full_name: string | null } | null;
      }[]
    >();
  if (error) throw toUserError(error);
  return data.map((r) => ({
    id: r.id,
    pmsReservationId: r.pms_reservation_id,
    guestName: r.guests?.full_name ?? null,
    arrivalDate: r.arrival_date,
    departureDate: r.departure_date,
  }));
}

export const previewReservationsQueryOptions = (tenantId: string) =>
  queryOptions({ queryKey: ["automations-reservations", tenantId], queryFn: () => getPreviewReservations(tenantId) });

export function usePreviewReservations(tenantId: string) {
  return useQuery(previewReservationsQueryOptions(tenantId));
}

// What the database says of a body: the save's own check and, for a reservation, the body as
// the planner would render it for that guest (public.check_template / public.preview_template).
export interface Preview {
  text: string | null;
  unknown: string[];
  unbalanced: boolean;
  // The placeholders a template may use.
  allowed: string[];
  guestLanguage: string | null;
  // The saved template's language this guest would get for the key; null: none saved yet.
  language: string | null;
}

export async function previewTemplate(body: string, reservationId: string | null, key: string | null): Promise<Preview> {
  if (!reservationId) {
    const { data, error } = await supabase.rpc("check_template", { p_body: body });
    if (error) throw toUserError(error);
    const check = data as { unknown: string[]; unbalanced: boolean; allowed: string[] } | null;
    if (!check) throw new UserFacingError("errors.unknown");
    return { text: null, ...check, guestLanguage: null, language: null };
  }
  const { data, error } = await supabase.rpc("preview_template", {
    p_reservation_id: reservationId,
    p_body: body,
    p_key: key,
  });
  if (error) throw toAutomationsError(error, "template");
  const preview = data as {
    text: string | null;
    unknown: string[];
    unbalanced: boolean;
    allowed: string[];
    guest_language: string | null;
    language: string | null;
  } | null;
  if (!preview) throw new UserFacingError("errors.unknown");
  return {
    text: preview.text,
    unknown: preview.unknown,
    unbalanced: preview.unbalanced,
    allowed: preview.allowed,
    guestLanguage: preview.guest_language,
    language: preview.language,
  };
}

export const previewQueryOptions = (body: string, reservationId: string | null, key: string | null) =>
  queryOptions({
    queryKey: ["template-preview", reservationId, key, body],
    queryFn: () => previewTemplate(body, reservationId, key),
    staleTime: 30_000,
  });

// ---- saving -----------------------------------------------------------------------------------
export type RuleInput = Omit<Rule, "id">;

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
    : await supabase.from("automation_rules").insert({ ...row, tenant_id: tenantId }).select("id").single();
  if (error) throw toAutomationsError(error.code === "PGRST116" ? { code: "PT404" } : error, "rule");
}

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

export async function saveFallbackLanguage(tenantId: string, language: string): Promise<void> {
  const { error } = await supabase
    .from("tenants")
    .update({ default_language: language })
    .eq("id", tenantId)
    .select("id")
    .single();
  if (error) throw toAutomationsError(error.code === "PGRST116" ? { code: "PT404" } : error, "hotel");
}

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

// A save, then the screen's data again (awaited: the saved values show when the save reports done).
export function useAutomationsMutation<T>(tenantId: string, fn: (input: T) => Promise<void>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => client.invalidateQueries({ queryKey: ["automations", tenantId] }),
  });
}
