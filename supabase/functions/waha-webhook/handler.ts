// POST /functions/v1/waha-webhook/<tenant-key>: WAHA's session webhook (message, message.ack,
// session.status), signed with the HMAC key waha-session configured on the session.
import { sharedSql } from "../_shared/db.ts";
import { HttpError, unauthorized } from "../_shared/http.ts";
import { checkEventId, createIngressHandler, type IngressDeps, type IngressSpec } from "../_shared/ingress.ts";
import { stdoutSink } from "../_shared/log.ts";
import { sharedRefusals } from "../_shared/refusals.ts";
import * as wahaHmac from "../_shared/waha_hmac.ts";

const TENANT_KEY = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * How far an event's own timestamp may lie in the past. The HMAC covers the body but WAHA has
 * no delivery timestamp, so the event's creation time is what bounds a replay; WAHA resends
 * the same body when it retries, and waha-session configures retries that end well within this.
 */
export const WAHA_MAX_AGE_MS = 10 * 60 * 1000;
/** And in the future: clock skew between the WAHA server and us. */
export const WAHA_MAX_SKEW_MS = 5 * 60 * 1000;

export const wahaWebhook: IngressSpec = {
  functionName: "waha-webhook",
  source: "waha",
  route(segments) {
    if (segments.length !== 1) throw new HttpError(404, "not_found", "POST to /waha-webhook/<tenant-key>");
    return { provider: "waha", key: TENANT_KEY.test(segments[0]) ? segments[0] : "" };
  },
  decoyScheme: () => "waha_hmac",
  async verify(scheme, facts, secrets) {
    if (scheme !== "waha_hmac") return { ok: false, failure: `unsupported scheme ${scheme}` };
    return await wahaHmac.verify(facts.headers, facts.body, secrets);
  },
  schema: () => "waha",
  interpret(_provider, body, facts) {
    const event = body as { id: string; event: string; timestamp: number };
    const age = facts.nowMs - event.timestamp;
    if (age > WAHA_MAX_AGE_MS || -age > WAHA_MAX_SKEW_MS) {
      throw unauthorized(`waha_hmac: event timestamp ${event.timestamp} outside the accepted window`);
    }
    return {
      kind: "store",
      events: [{ eventId: checkEventId(event.id, "id"), eventType: event.event, payload: body }],
    };
  },
};

export function defaultDeps(): IngressDeps {
  return { sql: sharedSql, now: Date.now, log: stdoutSink, refusals: sharedRefusals(sharedSql, stdoutSink) };
}

export function createHandler(deps: IngressDeps = defaultDeps()): (req: Request) => Promise<Response> {
  return createIngressHandler(wahaWebhook, deps);
}
