// The automations as the screen works with them (automation_rules, message_templates and the
// properties' quiet hours, in camelCase).
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

export type RuleInput = Omit<Rule, "id">;
