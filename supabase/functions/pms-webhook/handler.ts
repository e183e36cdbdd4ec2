// POST /functions/v1/pms-webhook/<provider>/<tenant-key>
import { verifyBasic, verifyToken } from "../_shared/credentials.ts";
import { sharedSql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import { createIngressHandler, type IngressDeps, type IngressSpec, type Verdict } from "../_shared/ingress.ts";
import { stdoutSink } from "../_shared/log.ts";
import { sharedRefusals } from "../_shared/refusals.ts";
import * as standardWebhooks from "../_shared/standard_webhooks.ts";
import { interpret, isProvider, type Provider } from "./providers.ts";

const TENANT_KEY = /^[A-Za-z0-9_-]{16,64}$/;

const DECOY_SCHEME: Record<Provider, string> = {
  generic: "standard_webhooks",
  guesty: "standard_webhooks",
  apaleo: "basic",
  mews: "token",
  cloudbeds: "token",
};

export const pmsWebhook: IngressSpec = {
  functionName: "pms-webhook",
  source: "pms",
  route(segments) {
    if (segments.length !== 2) {
      throw new HttpError(404, "not_found", "POST to /pms-webhook/<provider>/<tenant-key>");
    }
    const [provider, key] = segments;
    if (!isProvider(provider)) {
      throw new HttpError(404, "not_found", `unknown provider; one of generic, apaleo, mews, cloudbeds, guesty`);
    }
    // A malformed key cannot exist: the same 401 as an unknown one, without a database round trip.
    return { provider, key: TENANT_KEY.test(key) ? key : "" };
  },
  decoyScheme: (provider) => DECOY_SCHEME[provider as Provider],
  async verify(scheme, facts, secrets): Promise<Verdict> {
    switch (scheme) {
      case "standard_webhooks": {
        const result = await standardWebhooks.verify(facts.headers, facts.body, secrets, facts.nowMs / 1000);
        return result.ok ? { ok: true, webhookId: result.webhookId } : result;
      }
      case "token":
        return await verifyToken(facts.headers, facts.url, secrets);
      case "basic":
        return await verifyBasic(facts.headers, secrets);
      default:
        return { ok: false, failure: `unsupported scheme ${scheme}` };
    }
  },
  schema: (provider) => provider as Provider,
  interpret: (provider, body, facts) => interpret(provider as Provider, body, facts),
};

export function defaultDeps(): IngressDeps {
  return { sql: sharedSql, now: Date.now, log: stdoutSink, refusals: sharedRefusals(sharedSql, stdoutSink) };
}

export function createHandler(deps: IngressDeps = defaultDeps()): (req: Request) => Promise<Response> {
  return createIngressHandler(pmsWebhook, deps);
}
