// The few WAHA operations waha-session needs (WAHA OpenAPI 2026.9.2: Sessions and Pairing).
// The API key goes into the X-Api-Key header and nowhere else: never into an answer or a log.
import { HttpError } from "../_shared/http.ts";

export const WAHA_TIMEOUT_MS = 10_000;

export interface WahaConnection {
  configurationId: string;
  baseUrl: string;
  sessionName: string;
  apiKey: string | null;
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
  constructor(private readonly connection: WahaConnection, private readonly fetcher: typeof fetch = fetch) {}

  private async call(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
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
    if (response.ok || response.status === 404) return response;
    const text = (await response.text()).slice(0, 300);
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
      throw new HttpError(409, "wrong_session_status", `WAHA: ${wahaMessage(text)}`, {}, text);
    }
    throw new HttpError(502, "waha_error", `WAHA answered ${response.status} to ${method} ${path}`, {}, text);
  }

  private async json<T>(response: Response): Promise<T> {
    try {
      return await response.json() as T;
    } catch (error) {
      throw new HttpError(502, "waha_error", "WAHA sent an answer that is not JSON", {}, (error as Error).message);
    }
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
    return await this.json<SessionInfo>(response);
  }

  async createSession(config: Record<string, unknown>): Promise<SessionInfo> {
    return await this.expectJson("POST", "api/sessions", { name: this.connection.sessionName, start: true, config });
  }

  async updateSession(config: Record<string, unknown>): Promise<SessionInfo> {
    return await this.expectJson("PUT", `api/sessions/${this.session}`, { config });
  }

  async start(): Promise<SessionInfo> {
    return await this.expectJson("POST", `api/sessions/${this.session}/start`);
  }

  async restart(): Promise<SessionInfo> {
    return await this.expectJson("POST", `api/sessions/${this.session}/restart`);
  }

  async logout(): Promise<SessionInfo> {
    return await this.expectJson("POST", `api/sessions/${this.session}/logout`, {});
  }

  /** The QR code as a PNG (base64), as WAHA returns it for Accept: application/json. */
  async qr(): Promise<{ mimetype: string; data: string }> {
    return await this.expectJson("GET", `api/${this.session}/auth/qr?format=image`);
  }

  /** A code to type on the phone instead of scanning the QR code. */
  async requestCode(phoneNumber: string): Promise<{ code: string }> {
    return await this.expectJson("POST", `api/${this.session}/auth/request-code`, { phoneNumber });
  }

  private async expectJson<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.call(method, path, body);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new HttpError(
        409,
        "session_not_found",
        `WAHA has no session "${this.connection.sessionName}"; start it first`,
      );
    }
    return await this.json<T>(response);
  }
}

function wahaMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    const message = parsed.message ?? parsed.error;
    if (typeof message === "string") return message;
  } catch {
    // not JSON: use the text
  }
  return text || "the session is not in the expected status";
}
