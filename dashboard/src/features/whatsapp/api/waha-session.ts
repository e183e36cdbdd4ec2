import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { FunctionsFetchError, FunctionsHttpError } from "@supabase/supabase-js";
import { supabase } from "../../../lib/supabase";
import { UserFacingError } from "../../../lib/errors";

// The WhatsApp session on WAHA, through the waha-session edge function (owners and admins only):
// its live status and linked number, the QR code to scan, connect (start), restart and logout.
export interface LiveSession {
  name: string;
  status: string;
  phone: string | null;
}

export interface QrCode {
  mimetype: "image/png";
  data: string;
}

export interface SessionAnswer {
  session: LiveSession;
  qr: QrCode | null;
}

// waha-session's error codes (supabase/functions/README.md), each with words in the locale.
const KNOWN = new Set([
  "not_configured",
  "waha_url_not_allowed",
  "wrong_session_status",
  "session_not_found",
  "waha_unreachable",
  "waha_rejected_api_key",
  "waha_error",
  "unavailable",
]);

export async function sessionError(error: unknown): Promise<UserFacingError> {
  if (error instanceof FunctionsHttpError) {
    const response = error.context as Response;
    if (response.status === 401) return new UserFacingError("errors.session");
    if (response.status === 403) return new UserFacingError("errors.notAllowed");
    const body = (await response.json().catch(() => null)) as { error?: unknown } | null;
    const code = typeof body?.error === "string" ? body.error : "";
    if (KNOWN.has(code)) return new UserFacingError(`whatsapp.errors.${code}`);
    if (response.status === 503) return new UserFacingError("errors.busy");
    return new UserFacingError("errors.unknown");
  }
  if (error instanceof FunctionsFetchError) return new UserFacingError("whatsapp.errors.unreachable");
  return new UserFacingError("errors.unknown");
}

type Action = "status" | "start" | "restart" | "qr" | "logout";

export async function callSession<T>(tenantId: string, action: Action): Promise<T> {
  const { data, error } = await supabase.functions.invoke<T>("waha-session", {
    body: { action, tenant_id: tenantId },
  });
  if (error) throw await sessionError(error);
  if (data === null) throw new UserFacingError("errors.unknown");
  return data;
}

// While the session waits for a scan, its status is asked for often, so "Connected" shows soon
// after the phone scans; otherwise now and then.
const WAITING = new Set(["STARTING", "SCAN_QR_CODE"]);
export const statusPollMs = (status: string | undefined) => (status && WAITING.has(status) ? 3_000 : 30_000);

export const sessionQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: ["waha-session", tenantId, "status"],
    queryFn: () => callSession<SessionAnswer>(tenantId, "status"),
    refetchInterval: (query) => statusPollMs(query.state.data?.session.status),
    retry: false,
  });

export function useLiveSession(tenantId: string, enabled: boolean) {
  return useQuery({ ...sessionQueryOptions(tenantId), enabled });
}

// WAHA renews the QR code about every 20 seconds: fetch it again as often while it is shown.
export const QR_REFRESH_MS = 20_000;

export const qrQueryOptions = (tenantId: string) =>
  queryOptions({
    queryKey: ["waha-session", tenantId, "qr"],
    queryFn: async () => (await callSession<{ qr: QrCode }>(tenantId, "qr")).qr,
    refetchInterval: QR_REFRESH_MS,
    retry: false,
  });

export function useQrCode(tenantId: string, waitingForScan: boolean) {
  return useQuery({ ...qrQueryOptions(tenantId), enabled: waitingForScan });
}

// start (connect), restart and logout all answer the session's new status and its QR code.
export function useSessionAction(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: "start" | "restart" | "logout") => callSession<SessionAnswer>(tenantId, action),
    onSuccess: (answer) => {
      client.setQueryData(sessionQueryOptions(tenantId).queryKey, answer);
      if (answer.qr) client.setQueryData(qrQueryOptions(tenantId).queryKey, answer.qr);
    },
    onSettled: () => void client.invalidateQueries({ queryKey: ["whatsapp", tenantId] }),
  });
}
