import { QueryCache, QueryClient } from "@tanstack/react-query";
import { UserFacingError } from "./errors";
import { supabase } from "./supabase";

// A request refused for its token means the session could not be renewed (supabase-js refreshes
// before every request, and keeps a session whose refresh failed until its token expires): the
// app signs out, and the sign-in form says why.
function endSessionOnAuthFailure(error: unknown): void {
  if (error instanceof UserFacingError && error.key === "errors.session") {
    void supabase.auth.signOut({ scope: "local" });
  }
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: endSessionOnAuthFailure }),
    defaultOptions: {
      // A refused or malformed request does not get better by asking again.
      queries: { retry: 1, staleTime: 15_000, refetchOnWindowFocus: true },
      mutations: { retry: false, onError: endSessionOnAuthFailure },
    },
  });
}

export const queryClient = makeQueryClient();
