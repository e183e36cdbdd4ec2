// Every inbox query's key starts with ["inbox", tenantId]: one invalidation refreshes them all.
// Templates, properties and the guest finder are keyed apart ("inbox-templates", …): a new
// message does not refetch them.
export const inboxKeys = {
  all: (tenantId: string) => ["inbox", tenantId] as const,
  list: (tenantId: string, filters: object) => ["inbox", tenantId, "list", filters] as const,
  counts: (tenantId: string) => ["inbox", tenantId, "counts"] as const,
  conversation: (tenantId: string, id: string) => ["inbox", tenantId, "conversation", id] as const,
  thread: (tenantId: string, id: string) => ["inbox", tenantId, "thread", id] as const,
  notes: (tenantId: string, id: string) => ["inbox", tenantId, "notes", id] as const,
  reservations: (tenantId: string, id: string) => ["inbox", tenantId, "reservations", id] as const,
};
