// Webhooks the edge refused (4xx: nothing stored), counted per minute and per (tenant, source,
// provider, status, reason) in memory and written as a few counter upserts
// (internal.record_webhook_refusals_v1), never one write per request: a flood of bad requests
// costs this isolate a map entry per distinct key and the database one statement a minute.
// No body or header is kept, only the answer's error code.
//
// A minute is written once a later minute begins (on the next refusal, or the per-minute timer
// of sharedRefusals) and when the isolate shuts down; an isolate killed outright loses at most
// its current minute's counts, which a counter may lose — the requests were refused either way.
import type postgres from "postgres";
import type { Sql } from "./db.ts";

export interface Refusal {
  /** null: the key matched no tenant, or the request was refused before it was read. */
  tenantId: string | null;
  source: "pms" | "waha";
  provider: string;
  status: number;
  /** The answer's error code, e.g. unauthorized, payload_too_large. */
  reason: string;
}

export interface RefusalRow extends Refusal {
  minute: string;
  count: number;
}

type Writer = (rows: RefusalRow[]) => Promise<void>;

const MINUTE_MS = 60_000;
/** Distinct keys kept per minute; beyond it (a key-spraying flood) counts go to one "other" key. */
const MAX_KEYS = 1_000;

export class RefusalCounter {
  readonly #buckets = new Map<string, RefusalRow>();
  /** The earliest minute held (epoch ms); Infinity when nothing is. */
  #oldestMs = Number.POSITIVE_INFINITY;
  #written: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: Writer,
    private readonly onError: (error: unknown) => void,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Counts one refusal at `nowMs`; writes the minutes before it if any are still held. */
  add(refusal: Refusal, nowMs: number): void {
    const minuteMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
    const minute = new Date(minuteMs).toISOString();
    let key = JSON.stringify([
      minute,
      refusal.tenantId,
      refusal.source,
      refusal.provider,
      refusal.status,
      refusal.reason,
    ]);
    let row = this.#buckets.get(key);
    if (row === undefined && this.#buckets.size >= this.maxKeys) {
      refusal = { tenantId: null, source: refusal.source, provider: "other", status: refusal.status, reason: "other" };
      key = JSON.stringify([minute, null, refusal.source, "other", refusal.status, "other"]);
      row = this.#buckets.get(key);
    }
    if (row === undefined) {
      this.#buckets.set(key, { ...refusal, minute, count: 1 });
      this.#oldestMs = Math.min(this.#oldestMs, minuteMs);
    } else {
      row.count += 1;
    }
    if (this.#oldestMs < minuteMs) void this.flush(minuteMs);
  }

  /** Refusals held, not written yet. */
  get held(): number {
    let total = 0;
    for (const row of this.#buckets.values()) total += row.count;
    return total;
  }

  /** Writes the minutes before `beforeMs` (all, by default); resolves once they are written. */
  flush(beforeMs = Number.POSITIVE_INFINITY): Promise<void> {
    const rows: RefusalRow[] = [];
    for (const [key, row] of this.#buckets) {
      if (Date.parse(row.minute) < beforeMs) {
        rows.push(row);
        this.#buckets.delete(key);
      }
    }
    this.#oldestMs = Number.POSITIVE_INFINITY;
    for (const row of this.#buckets.values()) this.#oldestMs = Math.min(this.#oldestMs, Date.parse(row.minute));
    if (rows.length === 0) return this.#written;
    // One write at a time, in order; a failed write is reported, and its counts dropped rather
    // than held without bound while the database is away.
    this.#written = this.#written.then(() => this.write(rows)).catch(this.onError);
    return this.#written;
  }
}

export function databaseWriter(sql: () => Sql): Writer {
  return async (rows) => {
    const counts = rows.map((r) => ({
      minute: r.minute,
      tenant_id: r.tenantId,
      source: r.source,
      provider: r.provider,
      status: r.status,
      reason: r.reason,
      count: r.count,
    }));
    await sql()`select internal.record_webhook_refusals_v1(${sql().json(counts as postgres.JSONValue)})`;
  };
}

let shared: RefusalCounter | undefined;

/** The isolate's counter: written each minute (a timer that does not keep the isolate alive)
 * and when the isolate is shut down. */
export function sharedRefusals(sql: () => Sql, log: (line: Record<string, unknown>) => void): RefusalCounter {
  if (shared !== undefined) return shared;
  const counter = new RefusalCounter(databaseWriter(sql), (error) => {
    log({ level: "error", fn: "refusals", outcome: "refusal counts not written", reason: String(error) });
  });
  const timer = setInterval(() => void counter.flush(Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS), MINUTE_MS);
  Deno.unrefTimer(timer);
  globalThis.addEventListener("beforeunload", () => void counter.flush());
  shared = counter;
  return counter;
}
