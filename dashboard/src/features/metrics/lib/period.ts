// The metrics screen's periods: how far back, and how long each point on the charts is.
export const PERIODS = {
  "24h": { hours: 24, step: "1 hour" },
  "7d": { hours: 7 * 24, step: "6 hours" },
  "30d": { hours: 30 * 24, step: "1 day" },
} as const;

export type Period = keyof typeof PERIODS;

export function isPeriod(value: string | null): value is Period {
  return value !== null && Object.hasOwn(PERIODS, value);
}

export function windowOf(period: Period, now: Date = new Date()): { since: string; until: string; step: string } {
  const { hours, step } = PERIODS[period];
  return { since: new Date(now.getTime() - hours * 3600_000).toISOString(), until: now.toISOString(), step };
}

// A point's label on the time axis, on the property's clock: the hour for a day, weekday and
// hour for a week, the date for a month.
export function bucketLabel(iso: string, period: Period, timeZone: string, locale: string): string {
  const options: Intl.DateTimeFormatOptions =
    period === "24h"
      ? { timeStyle: "short" }
      : period === "7d"
        ? { weekday: "short", hour: "2-digit", minute: "2-digit" }
        : { day: "numeric", month: "short" };
  return new Intl.DateTimeFormat(locale, { timeZone, ...options }).format(new Date(iso));
}
