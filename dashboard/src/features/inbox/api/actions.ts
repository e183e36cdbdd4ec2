import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { Database } from "../../../lib/database.types";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError, type ApiError } from "../../../lib/errors";
import { inboxKeys } from "./keys";

// The inbox's own refusals in words; everything else as the app words it.
export function inboxError(error: ApiError): UserFacingError {
  if (error.code === "PT404") return new UserFacingError("inbox.errors.notFound");
  return toUserError(error);
}

type Rpc = keyof Database["public"]["Functions"];

async function call<F extends Rpc>(fn: F, args: Database["public"]["Functions"][F]["Args"]): Promise<unknown> {
  const { data, error } = await supabase.rpc(fn, args);
  if (error) throw inboxError(error);
  return data;
}

export const markRead = (conversationId: string) =>
  call("mark_conversation_read", { p_conversation_id: conversationId });
export const setStatus = (conversationId: string, status: "open" | "closed") =>
  call("set_conversation_status", { p_conversation_id: conversationId, p_status: status });
// null unassigns (and unlinks, below): generated types can't say that an argument takes null.
export const assign = (conversationId: string, assigneeId: string | null) =>
  call("assign_conversation", { p_conversation_id: conversationId, p_assignee_id: assigneeId as string });
export const addNote = (conversationId: string, body: string) =>
  call("add_conversation_note", { p_conversation_id: conversationId, p_body: body });
export const linkGuest = (conversationId: string, guestId: string | null) =>
  call("link_conversation_guest", { p_conversation_id: conversationId, p_guest_id: guestId as string });

// A mutation that refreshes the inbox when it settles (Realtime would too; this is at once).
export function useInboxMutation<A, R = unknown>(tenantId: string, fn: (args: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    // Not awaited: the outcome shows at once, the screen catches up.
    onSettled: () => void client.invalidateQueries({ queryKey: inboxKeys.all(tenantId) }),
  });
}

export function useMarkRead(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: markRead,
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: inboxKeys.counts(tenantId) });
      void client.invalidateQueries({ queryKey: [...inboxKeys.all(tenantId), "list"] });
    },
  });
}

// A refused reply: the guest opted out (confirm with a reason), or wrote STOP again since.
export type ReplyOutcome = { kind: "queued" } | { kind: "confirm_opt_out" } | { kind: "stopped_again" };

export interface ReplyArgs {
  conversationId: string;
  body: string;
  confirmReason?: string;
}

export async function sendReply({ conversationId, body, confirmReason }: ReplyArgs): Promise<ReplyOutcome> {
  const { error } = await supabase.rpc("send_reply", {
    p_conversation_id: conversationId,
    p_body: body,
    p_confirm_opted_out: confirmReason !== undefined,
    p_reason: confirmReason,
  });
  if (error) {
    if (error.code === "PT409" && error.hint === "stopped_again") return { kind: "stopped_again" };
    if (error.code === "PT409") return { kind: "confirm_opt_out" };
    throw inboxError(error);
  }
  return { kind: "queued" };
}

export function useSendReply(tenantId: string) {
  return useInboxMutation(tenantId, sendReply);
}

export interface RenderedTemplate {
  body: string;
  language: string;
}

export async function renderTemplate(conversationId: string, key: string, language: string | null) {
  const { data, error } = await supabase
    .rpc("render_reply_template", { p_conversation_id: conversationId, p_template_key: key, p_language: language ?? undefined });
  if (error) throw inboxError(error);
  const row = ((data ?? []) as RenderedTemplate[])[0];
  if (!row) throw new UserFacingError("inbox.errors.notFound");
  return row;
}
