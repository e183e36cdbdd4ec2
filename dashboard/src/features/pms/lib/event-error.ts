// A failed event's error, as the worker recorded it, in words staff can act on. The worker's
// text names its exception kind first (worker/inbound/processor.py); the database's own
// messages are never shown as they came.
export interface Explained {
  key: string;
  values?: Record<string, string>;
}

export function explainEventError(error: string | null): Explained {
  if (!error) return { key: "pms.eventError.none" };
  let m = /unknown property (\S+) for tenant/.exec(error);
  if (m) return { key: "pms.eventError.unknownProperty", values: { property: m[1] ?? "" } };
  m = /^ConfigurationError: tenant has no (\S+) PMS configuration/.exec(error);
  if (m) return { key: "pms.eventError.noConfiguration", values: { provider: m[1] ?? "" } };
  m = /^ConfigurationError: (.+)$/s.exec(error);
  if (m) return { key: "pms.eventError.configuration", values: { detail: m[1] ?? "" } };
  m = /^PayloadError: (.+)$/s.exec(error);
  if (m) return { key: "pms.eventError.payload", values: { detail: m[1] ?? "" } };
  m = /^TransientError: (.+)$/s.exec(error);
  if (m) return { key: "pms.eventError.transient", values: { detail: m[1] ?? "" } };
  if (/^(database conflict|written concurrently)/.test(error)) return { key: "pms.eventError.conflict" };
  if (error.startsWith("rejected by the database")) return { key: "pms.eventError.rejected" };
  if (/^lease of .* expired/.test(error)) return { key: "pms.eventError.timedOut" };
  return { key: "pms.eventError.other" };
}

// A sync's or a connection's error: the worker writes them in words (the PMS's answer, a
// rejected credential), except its unexpected failures, which are not shown as they came.
export function explainSyncError(error: string): Explained {
  if (/^internal error/.test(error)) return { key: "pms.syncError.internal" };
  return { key: "pms.syncError.asIs", values: { error } };
}

export function syncErrorWords(t: (key: string, values?: Record<string, string>) => string, error: string): string {
  const e = explainSyncError(error);
  return t(e.key, e.values);
}
