// The outbound URL policy where a function calls a tenant's URL (waha-session -> the tenant's
// WAHA). The database refuses such URLs when they are saved (private.url_refusal); this checks
// them again when used, and the addresses the name resolves to right before the call, because
// DNS can change after the URL was saved. The cases: shared/vectors/outbound-urls.json.
//
// Allowed: https on port 443 to a public address. `allowLocal` (ALLOW_LOCAL_URLS=true, local
// development only) allows http, any port and any address.
//
// fetch() resolves the name again itself, so a name that changes its answer between our lookup
// and fetch's (DNS rebinding within milliseconds) is not caught here; Deno offers no way to pin
// the address of an https connection. The worker, which makes nearly all calls, checks the
// address of the connection itself (worker/url_guard.py).

const V4_REFUSED: [string, number, string][] = [
  ["0.0.0.0", 8, "an unspecified address"],
  ["127.0.0.0", 8, "a loopback address"],
  ["10.0.0.0", 8, "a private address"],
  ["172.16.0.0", 12, "a private address"],
  ["192.168.0.0", 16, "a private address"],
  ["169.254.0.0", 16, "a link-local address (cloud metadata lives here)"],
  ["100.64.0.0", 10, "a carrier-grade NAT address"],
  ["224.0.0.0", 4, "a multicast address"],
  ["240.0.0.0", 4, "a reserved address"],
  ["192.0.0.0", 24, "a reserved address"],
  ["192.0.2.0", 24, "a reserved address"],
  ["192.88.99.0", 24, "a reserved address"],
  ["198.18.0.0", 15, "a reserved address"],
  ["198.51.100.0", 24, "a reserved address"],
  ["203.0.113.0", 24, "a reserved address"],
];

const V6_REFUSED: [string, number, string][] = [
  ["::", 128, "an unspecified address"],
  ["::1", 128, "a loopback address"],
  ["::ffff:0:0", 96, "an IPv4-mapped address"],
  ["fe80::", 10, "a link-local address"],
  ["fc00::", 7, "a private (unique local) address"],
  ["ff00::", 8, "a multicast address"],
  ["2001::", 23, "a reserved address"],
  ["2001:db8::", 32, "a reserved address"],
  ["2002::", 16, "a reserved address"],
  ["3fff::", 20, "a reserved address"],
];

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([/?#][\s\S]*)?$/;
const IPV6_AUTHORITY = /^\[([0-9A-Fa-f:.]+)\](?::([0-9]*))?$/;
const AUTHORITY = /^([^:]*)(?::([0-9]*))?$/;
const DNS_NAME = /^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$/;
const NUMERIC_LABEL = /^([0-9]+|0x[0-9a-f]*)$/;
const LOCAL_SUFFIX = /\.(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/;
// deno-lint-ignore no-control-regex
const BAD_CHARACTERS = /[\s\x00-\x1f\x7f\\]/;

function v4Bits(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** 128 bits of an IPv6 address (with an optional dotted IPv4 tail), or null if malformed. */
export function v6Bits(address: string): bigint | null {
  let text = address.toLowerCase();
  const tail = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (tail) {
    if (!DOTTED_QUAD.test(tail[2])) return null;
    const v4 = v4Bits(tail[2]);
    text = `${tail[1]}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  if (!/^[0-9a-f:]+$/.test(text) || (text.match(/::/g) ?? []).length > 1) return null;
  const [head, rest] = text.includes("::") ? text.split("::") : [text, null];
  const left = head === "" ? [] : head.split(":");
  const right = rest === null || rest === "" ? [] : rest.split(":");
  const missing = 8 - left.length - right.length;
  if (rest === null ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array(rest === null ? 0 : missing).fill("0"), ...right];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function inPrefix(bits: bigint, width: number, base: bigint, prefix: number): boolean {
  const shift = BigInt(width - prefix);
  return (bits >> shift) === (base >> shift);
}

/** Why an IP address (IPv4 dotted quad or IPv6 text) may not be called, or null. */
export function addressRefusal(address: string): string | null {
  if (DOTTED_QUAD.test(address)) {
    const bits = v4Bits(address);
    return V4_REFUSED.find(([net, prefix]) => inPrefix(bits, 32, v4Bits(net), prefix))?.[2] ?? null;
  }
  const bits = v6Bits(address);
  if (bits === null) return "a malformed address";
  const refused = V6_REFUSED.find(([net, prefix]) => inPrefix(bits, 128, v6Bits(net)!, prefix));
  if (refused) return refused[2];
  return inPrefix(bits, 128, v6Bits("2000::")!, 3) ? null : "a reserved address";
}

export interface ParsedTarget {
  host: string;
  /** Set when the host is an IP address. */
  address: string | null;
}

/** Why this URL may not be called, or null (the same rules as private.url_refusal). */
export function urlRefusal(url: string, allowLocal: boolean): string | null {
  const result = checkUrl(url, allowLocal);
  return typeof result === "string" ? result : null;
}

function checkUrl(url: string, allowLocal: boolean): string | ParsedTarget {
  if (url.length > 2048 || BAD_CHARACTERS.test(url)) {
    return "it must be a URL without spaces or backslashes, at most 2048 characters";
  }
  const parts = url.match(URL_PARTS);
  if (!parts) return "it must be an absolute https:// URL";
  const scheme = parts[1].toLowerCase();
  const authority = parts[2];
  if (scheme !== "https" && !(allowLocal && scheme === "http")) return "it must use https";
  if (authority.includes("@")) return "it must not contain a user name or password";
  let host: string;
  let port: string | undefined;
  let address: string | null = null;
  if (authority.startsWith("[")) {
    const v6 = authority.match(IPV6_AUTHORITY);
    if (!v6 || v6Bits(v6[1]) === null) return "its IPv6 address is malformed";
    [host, port, address] = [v6[1], v6[2], v6[1]];
  } else {
    const plain = authority.match(AUTHORITY);
    if (!plain) return "its host or port is malformed";
    host = plain[1].toLowerCase().replace(/\.$/, "");
    port = plain[2];
    if (!DNS_NAME.test(host) || host.length > 253) {
      return "its host must be a plain DNS name (letters, digits, hyphens; IDNs as xn--) or an IP address";
    }
    if (NUMERIC_LABEL.test(host.slice(host.lastIndexOf(".") + 1))) {
      if (!DOTTED_QUAD.test(host)) {
        return "an IPv4 address must be written as four decimal numbers (no octal, hex or short forms)";
      }
      address = host;
    }
  }
  if (port) {
    if (port.length > 5 || Number(port) < 1 || Number(port) > 65535) return "its port is malformed";
    if (!allowLocal && Number(port) !== 443) return "it must use the default https port (443)";
  }
  if (allowLocal) return { host, address };
  if (address !== null) {
    const reason = addressRefusal(address);
    return reason === null ? { host, address } : `it points at ${reason}`;
  }
  if (!host.includes(".") || LOCAL_SUFFIX.test(host)) {
    return `its host must be a public DNS name (${host} is a local name)`;
  }
  return { host, address };
}

export class UrlRefused extends Error {
  constructor(readonly reason: string) {
    super(`the URL is not allowed: ${reason}`);
  }
}

export type Resolver = (host: string) => Promise<string[]>;

/** A and AAAA records; a name with neither is refused (fetch could not use it either). */
export const dnsResolver: Resolver = async (host) => {
  const lookups = await Promise.allSettled([Deno.resolveDns(host, "A"), Deno.resolveDns(host, "AAAA")]);
  return lookups.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
};

/**
 * Throws UrlRefused unless the URL may be called now: its form, and every address its name
 * resolves to at this moment.
 */
export async function assertCallable(url: string, allowLocal: boolean, resolve: Resolver = dnsResolver): Promise<void> {
  const checked = checkUrl(url, allowLocal);
  if (typeof checked === "string") throw new UrlRefused(checked);
  if (allowLocal || checked.address !== null) return;
  const addresses = await resolve(checked.host);
  if (addresses.length === 0) throw new UrlRefused(`${checked.host} does not resolve`);
  for (const address of addresses) {
    const reason = addressRefusal(address);
    if (reason !== null) throw new UrlRefused(`${checked.host} resolves to ${address}, ${reason}`);
  }
}

/** ALLOW_LOCAL_URLS=true (or 1): local development only. */
export function allowLocalUrlsFromEnv(env: { get(key: string): string | undefined } = Deno.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.get("ALLOW_LOCAL_URLS") ?? "");
}
