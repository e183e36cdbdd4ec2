// The few WAHA operations waha-session needs (WAHA OpenAPI 2026.9.2: Sessions and Pairing).
// The API key goes into the X-Api-Key header and nowhere else: never into an answer or a log.
//
// The base URL is the tenant's: it is checked against the outbound URL policy before every
// call (_shared/url_guard.ts), redirects are not followed, and nothing WAHA sends is passed on
// as it came: each answer is reduced to the fields we expect, checked, or refused with our
// own error (WAHA's text goes to the log only).
import { HttpError } from "../_shared/http.ts";
import { assertCallable, type Resolver, UrlRefused } from "../_shared/url_guard.ts";

export const WAHA_TIMEOUT_MS = 10_000;

export interface WahaConnection {
  configurationId: string;
  baseUrl: string;
  sessionName: string;
  apiKey: string | null;
}

/** WAHA's session statuses (OpenAPI: SessionStatus). */
export const SESSION_STATUSES = ["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"] as const;

/** A QR code image is a few KiB; anything far larger is not one. */
const MAX_QR_BASE64 = 512 * 1024;

export interface GuardOptions {
  /** Local development: http and local addresses allowed (ALLOW_LOCAL_URLS). */
  allowLocal: boolean;
  resolve?: Resolver;
}

export interface SessionInfo {
  name: string;
  status: string;
  config?: Record<string, unknown> & { webhooks?: WebhookConfig[] };
}

export interface WebhookConfig {
  url: string;
  events: string[];
  hmac?: { key: string } | null;
  retries?: { delaySeconds: number; attempts: number; policy: string } | null;
  customHeaders?: { name: string; value: string }[] | null;
}

export class WahaClient {
  constructor(
    private readonly connection: WahaConnection,
    private readonly fetcher: typeof fetch = fetch,
    private readonly guard: GuardOptions = { allowLocal: false },
  ) {}

  /** 409 waha_url_not_allowed unless the tenant's WAHA URL may be called now. */
  async assertUrlAllowed(): Promise<void> {
    try {
      await assertCallable(this.connection.baseUrl, this.guard.allowLocal, this.guard.resolve);
    } catch (error) {
      if (!(error instanceof UrlRefused)) throw error;
      throw new HttpError(
        409,
        "waha_url_not_allowed",
        `this tenant's WAHA URL is not allowed: ${error.reason}; set a public https:// URL`,
        {},
        error.message,
      );
    }
  }

  /** A GET or POST whose answer the caller reads itself (the media download). */
  async raw(method: string, path: string, accept: string): Promise<Response> {
    return await this.call(method, path, undefined, accept);
  }

  private async call(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
    await this.assertUrlAllowed();
    const headers: Record<string, string> = { accept };
    if (this.connection.apiKey) headers["x-api-key"] = this.connection.apiKey;
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = new URL(
      path,
      this.connection.baseUrl.endsWith("/") ? this.connection.baseUrl : `${this.connection.baseUrl}/`,
    );
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(WAHA_TIMEOUT_MS),
        // A redirect could point anywhere, including where the policy forbids.
        redirect: "manual",
      });
    } catch (error) {
      throw new HttpError(
        502,
        "waha_unreachable",
        `WAHA at ${this.connection.baseUrl} did not answer`,
        {},
        (error as Error).message,
      );
    }
    if ((response.ok && response.status < 300) || response.status === 404) return response;
    const text = (await response.text().catch(() => "")).slice(0, 300);
    if (response.status === 401 || response.status === 403) {
      throw new HttpError(
        502,
        "waha_rejected_api_key",
        "WAHA refused the API key: set the right key for this tenant",
        {},
        text,
      );
    }
    if (response.status === 422) {
      throw new HttpError(
        409,
        "wrong_session_status",
        "the WhatsApp session is not in a status that allows this action",
        {},
        text,
      );
    }
    throw new HttpError(502, "waha_error", `WAHA answered ${response.status} to ${method} ${path}`, {}, text);
  }

  private async json(response: Response): Promise<Record<string, unknown>> {
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch (error) {
      throw new HttpError(502, "waha_error", "WAHA sent an answer that is not JSON", {}, (error as Error).message);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw unexpected("the answer is not a JSON object");
    }
    return parsed as Record<string, unknown>;
  }

  /** Only what we use of WAHA's session: its status (one of WAHA's) and its config. */
  private sessionOf(answer: Record<string, unknown>): SessionInfo {
    const status = answer.status;
    if (typeof status !== "string" || !(SESSION_STATUSES as readonly string[]).includes(status)) {
      throw unexpected(`session status ${JSON.stringify(status)?.slice(0, 40)}`);
    }
    const config = answer.config;
    return {
      name: this.connection.sessionName,
      status,
      config: config !== null && typeof config === "object" && !Array.isArray(config)
        ? config as SessionInfo["config"]
        : undefined,
    };
  }

  private get session(): string {
    return encodeURIComponent(this.connection.sessionName);
  }

  /** null when WAHA has no session of that name. */
  async getSession(): Promise<SessionInfo | null> {
    const response = await this.call("GET", `api/sessions/${this.session}`);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return this.sessionOf(await this.json(response));
  }

  async createSession(config: Record<string, unknown>): Promise<SessionInfo> {
    return this.sessionOf(
      await this.expectJson("POST", "api/sessions", { name: this.connection.sessionName, start: true, config }),
    );
  }

  async updateSession(config: Record<string, unknown>): Promise<SessionInfo> {
    return this.sessionOf(await this.expectJson("PUT", `api/sessions/${this.session}`, { config }));
  }

  async start(): Promise<SessionInfo> {
    return this.sessionOf(await this.expectJson("POST", `api/sessions/${this.session}/start`));
  }

  async restart(): Promise<SessionInfo> {
    return this.sessionOf(await this.expectJson("POST", `api/sessions/${this.session}/restart`));
  }

  async logout(): Promise<SessionInfo> {
    return this.sessionOf(await this.expectJson("POST", `api/sessions/${this.session}/logout`, {}));
  }

  /** The QR code as a PNG (base64), as WAHA returns it for Accept: application/json. */
  async qr(): Promise<{ mimetype: "image/png"; data: string }> {
    const answer = await this.expectJson("GET", `api/${this.session}/auth/qr?format=image`);
    const data = answer.data;
    if (
      answer.mimetype !== "image/png" || typeof data !== "string" || data.length === 0 ||
      data.length > MAX_QR_BASE64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)
    ) {
      throw unexpected("the answer is not a PNG QR code");
    }
    return { mimetype: "image/png", data };
  }

  /** A code to type on the phone instead of scanning the QR code. */
  async requestCode(phoneNumber: string): Promise<{ code: string }> {
    const answer = await this.expectJson("POST", `api/${this.session}/auth/request-code`, { phoneNumber });
    if (typeof answer.code !== "string" || !/^[A-Za-z0-9-]{4,16}$/.test(answer.code)) {
      throw unexpected("the answer is not a pairing code");
    }
    return { code: answer.code };
  }

  private async expectJson(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await this.call(method, path, body);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new HttpError(
        409,
        "session_not_found",
        `WAHA has no session "${this.connection.sessionName}"; start it first`,
      );
    }
    return await this.json(response);
  }
}

/** The largest media file passed on (WhatsApp's own limit for documents is 2 GB; a hotel's
 * inbox shows photos, PDFs and voice notes). */
export const MAX_MEDIA_BYTES = 64 * 1024 * 1024;

const SAFE_MIMETYPE =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(;\s*[a-z0-9_-]+=[a-z0-9_.-]+){0,3}$/i;

function safeMimetype(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed && SAFE_MIMETYPE.test(trimmed) ? trimmed : null;
}

/** inline; filename="..." with an ASCII fallback and the UTF-8 name (RFC 6266). */
function disposition(filename: string | null): string {
  if (!filename) return "inline";
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_").slice(0, 200);
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename.slice(0, 200))}`;
}

/** Passes at most `max` bytes on; more ends the stream with an error. */
function limited(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) controller.error(new Error(`media larger than ${max} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** Where WAHA can download a message's media again (its files expire: WHATSAPP_FILES_LIFETIME). */
export interface MediaSource {
  session: string;
  chatId: string;
  messageId: string;
}

export class MediaClient {
  constructor(private readonly client: WahaClient, private readonly connection: WahaConnection) {}

  /**
   * The media file WAHA keeps for a received message, streamed. `mediaUrl` is what WAHA put in
   * the message (media.url); it must be a file URL on this tenant's WAHA (same scheme, host,
   * port and base path), so a forged or altered URL cannot make us fetch anything else. The
   * request goes to the tenant's base URL with the API key, like every other WAHA call. WAHA
   * deletes its files after a while (180 s by default): then the message is fetched again with
   * downloadMedia=true, which gives a new file URL, checked the same way.
   */
  async fetch(
    mediaUrl: string,
    mimetype: string | null,
    filename: string | null,
    source?: MediaSource,
  ): Promise<Response> {
    let response = await this.download(mediaUrl);
    if (response === null && source !== undefined) {
      const fresh = await this.downloadAgain(source);
      if (fresh !== null) response = await this.download(fresh);
    }
    if (response === null) {
      throw new HttpError(404, "media_gone", "WAHA no longer has this file: ask the guest to send it again");
    }
    const length = Number(response.headers.get("content-length") ?? "0");
    if (length > MAX_MEDIA_BYTES || response.body === null) {
      await response.body?.cancel();
      throw new HttpError(
        502,
        "media_too_large",
        "this file is too large to show here",
        {},
        `content-length ${length}`,
      );
    }
    const headers: Record<string, string> = {
      "content-type": safeMimetype(mimetype) ?? safeMimetype(response.headers.get("content-type")) ??
        "application/octet-stream",
      "content-disposition": disposition(filename),
      // The guest's file: kept by nobody on the way (no shared cache, no public copy).
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
    };
    if (length > 0) headers["content-length"] = String(length);
    return new Response(limited(response.body, MAX_MEDIA_BYTES), { status: 200, headers });
  }

  /** The file at `mediaUrl` on the tenant's WAHA; null when WAHA no longer has it. */
  private async download(mediaUrl: string): Promise<Response | null> {
    const base = new URL(
      this.connection.baseUrl.endsWith("/") ? this.connection.baseUrl : `${this.connection.baseUrl}/`,
    );
    let target: URL;
    try {
      target = new URL(mediaUrl);
    } catch {
      throw mediaRefused("not a URL");
    }
    if (
      target.protocol !== base.protocol || target.host !== base.host || target.username || target.password ||
      !target.pathname.startsWith(`${base.pathname}api/files/`) || target.pathname.includes("/../")
    ) {
      throw mediaRefused(`media URL ${target.protocol}//${target.host}${target.pathname.slice(0, 60)}`);
    }
    const response = await this.client.raw("GET", target.pathname.slice(base.pathname.length) + target.search, "*/*");
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return response;
  }

  /** WAHA downloads the message's media again (GET .../messages/{id}?downloadMedia=true). */
  private async downloadAgain(source: MediaSource): Promise<string | null> {
    const path = `api/${encodeURIComponent(source.session)}/chats/${encodeURIComponent(source.chatId)}/messages/` +
      `${encodeURIComponent(source.messageId)}?downloadMedia=true`;
    const response = await this.client.raw("GET", path, "application/json");
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    let answer: unknown;
    try {
      answer = await response.json();
    } catch {
      return null;
    }
    const url = (answer as { media?: { url?: unknown } } | null)?.media?.url;
    return typeof url === "string" && url !== "" ? url : null;
  }
}

function mediaRefused(detail: string): HttpError {
  return new HttpError(502, "media_url_not_allowed", "this media is not on the hotel's WAHA server", {}, detail);
}

function unexpected(detail: string): HttpError {
  return new HttpError(502, "waha_error", "WAHA sent an answer that is not what its API describes", {}, detail);
}
