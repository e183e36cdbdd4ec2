import type { AuthScheme } from "../api/get-connections";

// The URL the PMS posts its webhooks to (supabase/functions/README.md, "Connecting a PMS"):
// <project>/functions/v1/pms-webhook/<provider>/<tenant's webhook key>.
export function webhookUrl(supabaseUrl: string, provider: string, webhookKey: string): string {
  const base = supabaseUrl.replace(/\/+$/, "");
  return `${base}/functions/v1/pms-webhook/${encodeURIComponent(provider)}/${encodeURIComponent(webhookKey)}`;
}

// The same URL with the secret in it, for PMSs that take it there: a token as ?token=, a
// basic-auth user:password before the host. Standard Webhooks secrets sign; they are never in URLs.
export function webhookUrlWithSecret(url: string, scheme: AuthScheme, secret: string): string | null {
  if (scheme === "token") return `${url}?token=${encodeURIComponent(secret)}`;
  if (scheme === "basic") {
    const colon = secret.indexOf(":");
    if (colon < 1) return null;
    const parsed = new URL(url);
    parsed.username = encodeURIComponent(secret.slice(0, colon));
    parsed.password = encodeURIComponent(secret.slice(colon + 1));
    return parsed.toString();
  }
  return null;
}
