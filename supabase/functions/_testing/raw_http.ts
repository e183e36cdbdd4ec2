// HTTP/1.1 over a plain TCP socket, for requests fetch() refuses to send: any method token
// (TRACE, TRACK, CONNECT), raw request targets, repeated or malformed headers, lying
// Content-Length. Only the status line and headers of the answer are read.

export interface RawRequest {
  method: string;
  /** The request target exactly as sent, e.g. "/functions/v1/%2e%2e/x?token=1". */
  target: string;
  headers: [string, string][];
  body?: Uint8Array;
  /** Leave out the Content-Length this client would otherwise add for a body. */
  noContentLength?: boolean;
}

export interface RawResponse {
  /** 0 when the server closed the connection without an answer. */
  status: number;
  headers: Headers;
}

const encoder = new TextEncoder();

export async function rawRequest(port: number, request: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const lines = [`${request.method} ${request.target} HTTP/1.1`, "host: 127.0.0.1", "connection: close"];
    for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
    if (request.body !== undefined && !request.noContentLength) lines.push(`content-length: ${request.body.length}`);
    const head = encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
    try {
      await writeAll(conn, head);
      if (request.body !== undefined) await writeAll(conn, request.body);
    } catch {
      // The server may answer (e.g. 413) and close before reading everything: read its answer.
    }
    return parse(await readHead(conn));
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed (timeout)
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Bytes up to the end of the answer's headers (or whatever came before the connection closed). */
async function readHead(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  let text = "";
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      break;
    }
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    text = new TextDecoder("latin1").decode(concat(chunks));
    if (text.includes("\r\n\r\n") || text.length > 64 * 1024) break;
  }
  return text;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function parse(head: string): RawResponse {
  const match = head.match(/^HTTP\/1\.[01] (\d{3})/);
  const headers = new Headers();
  for (const line of head.split("\r\n").slice(1)) {
    if (line === "") break;
    const at = line.indexOf(":");
    if (at > 0) {
      try {
        headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      } catch {
        // not a header Headers accepts; irrelevant to the checks
      }
    }
  }
  return { status: match ? Number(match[1]) : 0, headers };
}
