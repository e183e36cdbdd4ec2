import type { AuthError } from "@supabase/supabase-js";
import { useMutation } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError, UserFacingError } from "../../../lib/errors";

// Where e-mailed links land: this app's own address (Auth accepts it as a redirect: the site URL
// or an allowed URL, see supabase/config.toml).
export function appUrl(path: string): string {
  return new URL(path, window.location.origin).href;
}

function authFailure(error: AuthError): UserFacingError {
  switch (error.code) {
    case "weak_password":
      return new UserFacingError("auth.weakPassword");
    case "same_password":
      return new UserFacingError("auth.samePassword");
    case "over_request_rate_limit":
    case "over_email_send_rate_limit":
      return new UserFacingError("auth.tooMany");
    case "validation_failed":
      return new UserFacingError("auth.badEmail");
    default:
      return new UserFacingError(error.status === 401 || error.status === 403 ? "auth.linkExpired" : "errors.unknown");
  }
}

// Asks Auth to e-mail a recovery link (PKCE: the link ends in a code this browser exchanges).
// Auth answers alike whether the address has an account or not; so does this, also when that
// address was sent a link a moment ago (its per-address limit would otherwise tell).
export async function requestPasswordReset(email: string): Promise<void> {
  const { error } = await supabase.auth.resetPasswordForEmail(email.trim(), {
    redirectTo: appUrl("/reset-password"),
  });
  if (error && error.code !== "over_email_send_rate_limit") throw authFailure(error);
}

export async function setPassword(password: string): Promise<void> {
  const { error } = await supabase.auth.updateUser({ password });
  if (error) throw authFailure(error);
}

// Joins the hotel whose invitation the link carried; returns the hotel's id.
export async function acceptInvitation(token: string): Promise<string> {
  const { data, error } = await supabase.rpc("accept_invitation", { p_token: token });
  if (error) {
    if (error.code === "PT404") throw new UserFacingError("auth.invitationGone");
    throw toUserError(error);
  }
  if (typeof data !== "string") throw new UserFacingError("errors.unknown");
  return data;
}

export function useRequestPasswordReset() {
  return useMutation({ mutationFn: requestPasswordReset });
}

export function useSetPassword() {
  return useMutation({ mutationFn: setPassword });
}

type InvitationSession = { access_token: string; refresh_token: string } | { error: string } | null;
let arrivedWith: InvitationSession | undefined;

// The session an invitation link brought (Auth's invitations are implicit-flow links: the tokens
// come in the URL's fragment, which supabase-js in PKCE mode leaves alone). Reads and removes
// them from the address bar, once per page load (a second call gets the same answer); null when
// the fragment held none.
export function takeInvitationSession(): InvitationSession {
  if (arrivedWith !== undefined) return arrivedWith;
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const access = hash.get("access_token");
  const refresh = hash.get("refresh_token");
  const failed = hash.get("error_code") ?? hash.get("error");
  if (!access && !failed) {
    arrivedWith = null;
  } else {
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
    arrivedWith = failed
      ? { error: failed }
      : access && refresh
        ? { access_token: access, refresh_token: refresh }
        : { error: "incomplete" };
  }
  return arrivedWith;
}
