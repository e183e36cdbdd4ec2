import type { Session } from "@supabase/supabase-js";
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { supabase } from "../../../lib/supabase";
import { queryClient } from "../../../lib/query-client";

// Why the user is looking at the sign-in form, when it is not their first visit.
export type SignedOutReason = "signed_out" | "session_ended" | null;

interface SessionState {
  session: Session | null;
  loading: boolean;
  signedOutReason: SignedOutReason;
  // Called just before the user's own sign-out, so it is not taken for a failed refresh.
  expectSignOut: () => void;
}

const SessionContext = createContext<SessionState | null>(null);

// onAuthStateChange drives the signed-in state: supabase-js restores the session from storage
// (INITIAL_SESSION), refreshes it before it expires (TOKEN_REFRESHED) and, when a refresh is
// refused, drops it (SIGNED_OUT) — which we tell apart from the user's own sign-out.
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [loading, setLoading] = useState(true);
  const [signedOutReason, setReason] = useState<SignedOutReason>(null);
  const expecting = useRef(false);

  useEffect(() => {
    const { data } = supabase.auth.onAuthStateChange((event, next) => {
      if (event === "SIGNED_OUT") {
        setReason(expecting.current ? "signed_out" : "session_ended");
        expecting.current = false;
        queryClient.clear();
      } else if (event === "SIGNED_IN") {
        setReason(null);
      }
      setSession(next);
      setLoading(false);
    });
    return () => data.subscription.unsubscribe();
  }, []);

  const value: SessionState = {
    session,
    loading,
    signedOutReason,
    expectSignOut: () => {
      expecting.current = true;
    },
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}
