// What each PMS's webhook becomes in inbound_events: (event_id, event_type, payload).
// The contract for the worker's adapters is written up in shared/schemas/webhooks/README.md.
import { hexEncode, sha256, utf8 } from "../_shared/crypto.ts";
import { canonicalJson } from "../_shared/json.ts";
import { HttpError } from "../_shared/http.ts";
import { checkEventId, type Interpretation, type RequestFacts } from "../_shared/ingress.ts";
import { webhookHeaders } from "../_shared/standard_webhooks.ts";

export const PROVIDERS = ["generic", "apaleo", "mews", "cloudbeds", "guesty"] as const;
export type Provider = (typeof PROVIDERS)[number];

export function isProvider(name: string): name is Provider {
  return (PROVIDERS as readonly string[]).includes(name);
}

type Facts = RequestFacts & { webhookId?: string };
type Json = Record<string, unknown>;

async function digest(provider: Provider, value: unknown): Promise<string> {
  return `${provider}:${hexEncode(await sha256(utf8(canonicalJson(value))))}`;
}

/** The Standard Webhooks message id, whichever scheme authenticated the request. */
function headerId(facts: Facts): string | null {
  return facts.webhookId ?? webhookHeaders(facts.headers).id;
}

function generic(body: Json, facts: Facts): Interpretation {
  const id = headerId(facts);
  if (id === null) {
    throw new HttpError(
      422,
      "unprocessable_payload",
      "the generic provider needs the webhook-id header: it is the event id",
    );
  }
  return {
    kind: "store",
    events: [{ eventId: checkEventId(id, "webhook-id"), eventType: body.type as string, payload: body }],
  };
}

async function guesty(body: Json, facts: Facts): Promise<Interpretation> {
  const id = headerId(facts) ?? (await digest("guesty", body));
  return {
    kind: "store",
    events: [{ eventId: checkEventId(id, "svix-id"), eventType: body.event as string, payload: body }],
  };
}

function apaleo(body: Json): Interpretation {
  // Apaleo writes topics capitalised in events ("Reservation") and in lower case in
  // subscriptions and the health check ("system"); the stored type is lower case: reservation/created.
  const eventType = `${(body.topic as string).toLowerCase()}/${body.type as string}`;
  if (eventType === "system/healthcheck") {
    return { kind: "ignore", eventType, reason: "apaleo health check" };
  }
  return { kind: "store", events: [{ eventId: checkEventId(body.id as string, "id"), eventType, payload: body }] };
}

/**
 * Mews sends no event id and no time, and the same {Discriminator, Value.Id} every time an
 * entity changes. The key is what identifies the change: enterprise, integration,
 * discriminator and the whole Value (its Id, and a version or update time if Mews ever sends
 * one). The database stores a delivery as one event with any still-queued event of the same
 * key (internal.ingest_mews_events_v1 says why that is safe), whatever the clock says.
 */
async function mews(body: Json): Promise<Interpretation> {
  const events = body.Events as Json[];
  if (events.length === 0) return { kind: "ignore", eventType: "(none)", reason: "empty Mews batch" };
  const envelope = { EnterpriseId: body.EnterpriseId, IntegrationId: body.IntegrationId };
  return {
    kind: "store",
    coalesce: "mews",
    events: await Promise.all(events.map(async (event) => ({
      eventId: await digest("mews", [body.EnterpriseId, body.IntegrationId, event.Discriminator, event.Value]),
      eventType: event.Discriminator as string,
      entityId: (event.Value as Json).Id as string,
      // Stored as a batch of one, so the adapter reads the same shape Mews posts.
      payload: { ...envelope, Events: [event] },
    }))),
  };
}

async function cloudbeds(body: Json): Promise<Interpretation> {
  // The whole body, including its microsecond timestamp, identifies one change.
  return {
    kind: "store",
    events: [{ eventId: await digest("cloudbeds", body), eventType: body.event as string, payload: body }],
  };
}

export function interpret(provider: Provider, body: unknown, facts: Facts): Interpretation | Promise<Interpretation> {
  const json = body as Json;
  switch (provider) {
    case "generic":
      return generic(json, facts);
    case "guesty":
      return guesty(json, facts);
    case "apaleo":
      return apaleo(json);
    case "mews":
      return mews(json);
    case "cloudbeds":
      return cloudbeds(json);
  }
}
