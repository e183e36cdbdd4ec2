// One PostgreSQL client per isolate, created on first use. postgres.js with prepare: false,
// because Supabase's transaction pooler (Supavisor) cannot keep named prepared statements
// between transactions; a small pool and short idle timeout, because an edge isolate lives
// for minutes and must not hold pooler slots it no longer uses.
import postgres from "postgres";

export type Sql = postgres.Sql;

/** `make db`'s local database, used when SUPABASE_DB_URL is not set. */
export const LOCAL_DB_URL = "postgresql://postgres@127.0.0.1:54322/postgres";

export function connect(
  url: string,
  { applicationName = "edge-functions", max = Number(Deno.env.get("DB_POOL_MAX") ?? 4) } = {},
): Sql {
  return postgres(url, {
    prepare: false,
    max,
    idle_timeout: 20,
    // Senders give up after a few seconds (Mews after 5): fail fast with 503 instead.
    connect_timeout: 3,
    max_lifetime: 15 * 60,
    connection: { application_name: applicationName },
    onnotice: () => {},
  });
}

let shared: Sql | undefined;

export function sharedSql(): Sql {
  shared ??= connect(Deno.env.get("SUPABASE_DB_URL") ?? LOCAL_DB_URL);
  return shared;
}

const TRANSIENT_SQLSTATE_CLASSES = new Set(["08", "53", "57", "58"]);
const TRANSIENT_SQLSTATES = new Set(["40001", "40P01", "55P03"]);

/**
 * True when the database could not be reached or asked us to come back later (connection
 * refused or lost, timeouts, too many connections, shutdown, serialization failure): the
 * sender should retry, so these become 503 + Retry-After. Any other database error is a bug.
 */
export function isTransientDbError(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") {
    return error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.ConnectionReset ||
      error instanceof Deno.errors.TimedOut;
  }
  if (/^[0-9A-Z]{5}$/.test(code)) {
    return TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2)) || TRANSIENT_SQLSTATES.has(code);
  }
  // Node-style network codes (ECONNREFUSED, ETIMEDOUT, ...) and postgres.js's own
  // (CONNECT_TIMEOUT, CONNECTION_CLOSED, CONNECTION_ENDED, CONNECTION_DESTROYED).
  return /^E[A-Z]+$/.test(code) || code.startsWith("CONNECT");
}
