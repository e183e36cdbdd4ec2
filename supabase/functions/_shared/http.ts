// HTTP in and out for every function: one error type mapped to exact status codes, one JSON
// response helper, request ids, and a body reader that stops at the size cap.

/** Largest body accepted, in bytes. A Mews batch of a few hundred events is far below it. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Seconds a sender should wait before retrying when the database is unreachable. */
export const RETRY_AFTER_SECONDS = 30;

/** An answer for the client. `detail` goes to the log only (e.g. why a signature failed). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly detail?: string,
  ) {
    super(message);
  }
}

// Every refused credential gets exactly this answer, whether the tenant key is unknown, the
// signature wrong or the timestamp stale: a caller cannot tell which tenants exist.
export function unauthorized(detail: string): HttpError {
  return new HttpError(401, "unauthorized", "missing or invalid webhook credentials", {}, detail);
}

export function jsonResponse(
  status: number,
  body: Record<string, unknown>,
  requestId: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ ...body, request_id: requestId }), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-request-id": requestId,
      ...headers,
    },
  });
}

export function errorResponse(error: HttpError, requestId: string, extra: Record<string, string> = {}): Response {
  return jsonResponse(error.status, { error: error.code, message: error.message }, requestId, {
    ...error.headers,
    ...extra,
  });
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's x-request-id when it is a sane token, else a new one. */
export function requestIdOf(req: Request): string {
  const given = req.headers.get("x-request-id")?.trim();
  return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** Path segments after the function's name: `/functions/v1/pms-webhook/a/b` -> [a, b]. */
export function segmentsAfter(pathname: string, functionName: string): string[] {
  const parts = pathname.split("/").filter((p) => p.length > 0);
  const at = parts.indexOf(functionName);
  if (at < 0) throw new HttpError(404, "not_found", `no such endpoint; POST to /${functionName}/...`);
  return parts.slice(at + 1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new HttpError(404, "not_found", "malformed path");
    }
  });
}

export function requireMethod(req: Request, allowed: readonly string[]): void {
  if (!allowed.includes(req.method)) {
    throw new HttpError(405, "method_not_allowed", `use ${allowed.join(" or ")}`, {
      allow: allowed.join(", "),
    });
  }
}

/** application/json (any charset parameter) or a +json media type, without a content coding. */
export function requireJsonBody(req: Request): void {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
  }
  const coding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (coding !== "identity" && coding !== "") {
    // Signatures are over the bytes as sent; a compressed body would need decoding first.
    throw new HttpError(415, "unsupported_media_type", "compressed bodies are not accepted", {
      "accept-encoding": "identity",
    });
  }
}

/**
 * The raw body, refusing more than `limit` bytes: a declared Content-Length over the cap is
 * refused before anything is read, and a chunked body is cut off as soon as it passes the cap.
 */
export async function readBody(req: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () => new HttpError(413, "payload_too_large", `the body must not exceed ${limit} bytes`);
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    if (!/^\s*\d{1,15}\s*$/.test(declared)) {
      throw new HttpError(400, "bad_request", "content-length is not a number");
    }
    if (Number(declared) > limit) throw tooLarge();
  }
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
