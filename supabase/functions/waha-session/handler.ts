// POST /functions/v1/waha-session  {action, tenant_id, ...}  (Authorization: Bearer <user JWT>)
//
//   status        the session's status, and its QR code while it waits for a scan
//   start         point the session's webhook at waha-webhook (with the tenant's HMAC key),
//                 create or update the session on WAHA and start it; {rotate_webhook_secret: true}
//                 also replaces the HMAC key (the previous one stays valid for 10 minutes)
//   restart       restart the session (e.g. when it is FAILED)
//   qr            the QR code (PNG, base64) to scan with WhatsApp on the hotel's phone
//   pairing_code  {phone_number}: a code to type on the phone instead of scanning
//   logout        unlink the phone; the session waits for a new scan
//   media         {message_id}: the photo, document, voice note or video of a guest's message
//                 (conversation_messages.id), streamed from WAHA with its content type; nothing
//                 is stored. Any member of the tenant (staff too) may.
//
// The dashboard calls it with supabase.functions.invoke("waha-session", {body}). Only owners and
// admins of the tenant may (media: every member); the WAHA API key is read on the server and
// never returned.
import { sharedSql, type Sql } from "../_shared/db.ts";
import { HttpError, jsonResponse, readBody, requestIdOf, requireJsonBody } from "../_shared/http.ts";
import { failureResponse } from "../_shared/failure.ts";
import { parseJson } from "../_shared/json.ts";
import { type LogLine, type LogSink, stdoutSink } from "../_shared/log.ts";
import { assertManager, assertMember, authenticatedUser, type JwtVerifier, jwtVerifierFromEnv } from "./auth.ts";
import { allowLocalUrlsFromEnv, type Resolver } from "../_shared/url_guard.ts";
import { MediaClient, type SessionInfo, WahaClient, type WahaConnection, type WebhookConfig } from "./waha.ts";

export const ACTIONS = ["status", "start", "restart", "qr", "pairing_code", "logout", "media"] as const;
type Action = (typeof ACTIONS)[number];

/**
 * What waha-webhook accepts; waha-session subscribes the session to exactly these. `message.any`
 * brings the guests' messages and the hotel's own (sent from its phone, or by us: the worker tells
 * them apart); `message` alone would miss what staff write on the phone.
 */
export const WEBHOOK_EVENTS = ["message.any", "message.ack", "session.status"];

/**
 * WAHA retries a delivery that did not get a 2xx: 2, 4, 8, 16 and 32 seconds apart, about a
 * minute in all, well within the 10 minutes waha-webhook accepts an event's timestamp.
 */
export const WEBHOOK_RETRIES = { policy: "exponential", delaySeconds: 2, attempts: 6 };

export interface SessionDeps {
  sql: () => Sql;
  log: LogSink;
  verifyJwt: JwtVerifier;
  /** Public URL of the functions, e.g. https://<project>.supabase.co/functions/v1. */
  functionsUrl: string;
  /** Local development only (ALLOW_LOCAL_URLS): the tenant's WAHA may be http on a local address. */
  allowLocalUrls: boolean;
  fetch?: typeof fetch;
  /** DNS lookups for the URL check (tests simulate DNS with it). */
  resolve?: Resolver;
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, x-request-id",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-expose-headers": "x-request-id",
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Command {
  action: Action;
  tenantId: string;
  phoneNumber?: string;
  messageId?: string;
  rotateWebhookSecret: boolean;
}

function invalid(message: string): HttpError {
  return new HttpError(422, "invalid_request", message);
}

function parseCommand(body: unknown): Command {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("the body must be a JSON object");
  const {
    action,
    tenant_id: tenantId,
    phone_number: phone,
    rotate_webhook_secret: rotate,
    message_id: message,
  } = body as Record<string, unknown>;
  if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action)) {
    throw invalid(`action must be one of ${ACTIONS.join(", ")}`);
  }
  if (typeof tenantId !== "string" || !UUID.test(tenantId)) throw invalid("tenant_id must be the tenant's uuid");
  if (rotate !== undefined && typeof rotate !== "boolean") throw invalid("rotate_webhook_secret must be true or false");
  let phoneNumber: string | undefined;
  if (action === "pairing_code") {
    // International format; WAHA wants the digits only.
    if (typeof phone !== "string" || !/^\+?[1-9]\d{6,14}$/.test(phone.replace(/[\s()-]/g, ""))) {
      throw invalid("phone_number must be the WhatsApp number in international format, e.g. +4930123456789");
    }
    phoneNumber = phone.replace(/\D/g, "");
  }
  let messageId: string | undefined;
  if (action === "media") {
    const text = typeof message === "number" && Number.isSafeInteger(message) ? String(message) : message;
    if (typeof text !== "string" || !/^[1-9][0-9]{0,17}$/.test(text)) {
      throw invalid("message_id must be the id of a message in the conversation (a positive integer)");
    }
    messageId = text;
  }
  return { action: action as Action, tenantId, phoneNumber, messageId, rotateWebhookSecret: rotate === true };
}

async function connectionOf(sql: Sql, tenantId: string): Promise<WahaConnection & { webhookKey: string }> {
  const rows = await sql<
    {
      waha_configuration_id: string;
      base_url: string;
      session_name: string;
      api_key: string | null;
      webhook_key: string;
    }[]
  >`
    select w.waha_configuration_id, w.base_url, w.session_name, w.api_key, t.webhook_key
    from internal.waha_connection_v1(${tenantId}) w
    cross join public.tenants t
    where t.id = ${tenantId}`;
  if (rows.length === 0) {
    throw new HttpError(
      404,
      "not_configured",
      "this tenant has no WhatsApp (WAHA) connection yet: add its WAHA URL first",
    );
  }
  const row = rows[0];
  return {
    configurationId: row.waha_configuration_id,
    baseUrl: row.base_url,
    sessionName: row.session_name,
    apiKey: row.api_key,
    webhookKey: row.webhook_key,
  };
}

/** The HMAC key WAHA must sign with: the newest active one, or a new one if there is none. */
async function webhookSecret(
  sql: Sql,
  connection: { configurationId: string; webhookKey: string },
  rotate: boolean,
): Promise<string> {
  if (!rotate) {
    const [context] = await sql<{ secrets: string[] }[]>`
      select secrets from internal.webhook_auth_context_v1('waha', 'waha', ${connection.webhookKey})`;
    if (context && context.secrets.length > 0) return context.secrets[0];
  }
  const [row] = await sql<{ key: string }[]>`
    select internal.rotate_waha_webhook_secret_v1(${connection.configurationId}::uuid) as key`;
  return row.key;
}

/** Our webhook replaces any earlier one pointing at waha-webhook; other webhooks stay. */
function withOurWebhook(config: Record<string, unknown> | undefined, ours: WebhookConfig): Record<string, unknown> {
  const others = ((config?.webhooks as WebhookConfig[] | undefined) ?? []).filter((w) =>
    !/\/waha-webhook\//.test(w.url)
  );
  return { ...(config ?? {}), webhooks: [...others, ours] };
}

async function withQr(waha: WahaClient, info: SessionInfo) {
  const qr = info.status === "SCAN_QR_CODE" ? await waha.qr().catch(() => null) : null;
  return { session: { name: info.name, status: info.status, phone: info.phone }, qr };
}

async function run(command: Command, deps: SessionDeps, line: LogLine): Promise<Record<string, unknown> | Response> {
  const sql = deps.sql();
  const connection = await connectionOf(sql, command.tenantId);
  const waha = new WahaClient(connection, deps.fetch, { allowLocal: deps.allowLocalUrls, resolve: deps.resolve });
  // Before anything else happens for this action (e.g. a new webhook key for `start`).
  await waha.assertUrlAllowed();
  switch (command.action) {
    case "status": {
      const info = await waha.getSession();
      if (info === null) {
        return {
          session: { name: connection.sessionName, status: "STOPPED", phone: null, exists: false },
          qr: null,
        };
      }
      return await withQr(waha, info);
    }
    case "start": {
      const key = await webhookSecret(sql, connection, command.rotateWebhookSecret);
      const webhook: WebhookConfig = {
        url: `${deps.functionsUrl.replace(/\/+$/, "")}/waha-webhook/${connection.webhookKey}`,
        events: WEBHOOK_EVENTS,
        hmac: { key },
        retries: WEBHOOK_RETRIES,
      };
      const existing = await waha.getSession();
      let info: SessionInfo;
      if (existing === null) {
        info = await waha.createSession(withOurWebhook(undefined, webhook));
        line.wahaAction = "created";
      } else {
        info = await waha.updateSession(withOurWebhook(existing.config, webhook));
        if (info.status === "STOPPED" || info.status === "FAILED") info = await waha.start();
        line.wahaAction = "updated";
      }
      return await withQr(waha, (await waha.getSession()) ?? info);
    }
    case "restart":
      return await withQr(waha, await waha.restart());
    case "qr":
      return { qr: await waha.qr() };
    case "pairing_code":
      return { code: (await waha.requestCode(command.phoneNumber!)).code };
    case "logout":
      return await withQr(waha, await waha.logout());
    case "media": {
      // The tenant's own message only: another tenant's id answers as a missing one.
      const rows = await sql<
        {
          media_url: string | null;
          media_mimetype: string | null;
          media_filename: string | null;
          waha_message_id: string | null;
          waha_session: string;
          chat_id: string;
        }[]
      >`
        select m.media_url, m.media_mimetype, m.media_filename, m.waha_message_id, m.waha_session, c.chat_id
        from public.conversation_messages m
        join public.conversations c on c.id = m.conversation_id
        where m.id = ${command.messageId!}::bigint and m.tenant_id = ${command.tenantId}::uuid`;
      const row = rows[0];
      if (!row?.media_url) {
        throw new HttpError(404, "not_found", "this message has no photo, file or voice note to show");
      }
      line.wahaAction = "media";
      // WAHA deletes its files after a while: the message's id lets it download the media again.
      const source = row.waha_message_id === null
        ? undefined
        : { session: row.waha_session, chatId: row.chat_id, messageId: row.waha_message_id };
      return await new MediaClient(waha, connection).fetch(
        row.media_url,
        row.media_mimetype,
        row.media_filename,
        source,
      );
    }
  }
}

export function createHandler(deps: SessionDeps = defaultDeps()): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const line: LogLine = { level: "info", fn: "waha-session", requestId, method: req.method };
    let response: Response;
    try {
      if (req.method === "OPTIONS") {
        response = new Response(null, { status: 204, headers: { ...CORS, "x-request-id": requestId } });
      } else {
        if (req.method !== "POST") {
          throw new HttpError(405, "method_not_allowed", "use POST", { allow: "POST, OPTIONS" });
        }
        const userId = await authenticatedUser(req, deps.verifyJwt);
        line.userId = userId;
        requireJsonBody(req);
        const command = parseCommand(parseJson(await readBody(req, 16 * 1024)));
        Object.assign(line, { tenantId: command.tenantId, action: command.action });
        line.role = command.action === "media"
          ? await assertMember(deps.sql(), command.tenantId, userId)
          : await assertManager(deps.sql(), command.tenantId, userId);
        const result = await run(command, deps, line);
        if (result instanceof Response) {
          for (const [name, value] of Object.entries({ ...CORS, "x-request-id": requestId })) {
            result.headers.set(name, value);
          }
          result.headers.set("access-control-expose-headers", "x-request-id, content-disposition");
          line.outcome = "ok";
          response = result;
        } else {
          const session = result.session as { status?: string } | undefined;
          Object.assign(line, { outcome: "ok", wahaStatus: session?.status });
          response = jsonResponse(200, result, requestId, CORS);
        }
      }
    } catch (error) {
      response = failureResponse(error, requestId, line, CORS);
    }
    line.status = response.status;
    line.latencyMs = Math.round((performance.now() - started) * 10) / 10;
    deps.log(line);
    return response;
  };
}

/** SUPABASE_URL/functions/v1 on Supabase; FUNCTIONS_URL overrides it (the local server sets it). */
export function functionsUrlFromEnv(env: { get(key: string): string | undefined } = Deno.env): string {
  const explicit = env.get("FUNCTIONS_URL");
  if (explicit) return explicit;
  const supabaseUrl = env.get("SUPABASE_URL");
  return supabaseUrl ? `${supabaseUrl.replace(/\/+$/, "")}/functions/v1` : "http://127.0.0.1:54321/functions/v1";
}

export function defaultDeps(): SessionDeps {
  return {
    sql: sharedSql,
    log: stdoutSink,
    verifyJwt: jwtVerifierFromEnv(),
    functionsUrl: functionsUrlFromEnv(),
    allowLocalUrls: allowLocalUrlsFromEnv(),
  };
}
