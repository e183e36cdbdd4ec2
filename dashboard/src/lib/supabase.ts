import { createClient } from "@supabase/supabase-js";
import type { Database } from "./database.types";
import { env } from "./env";

// The app's one client: supabase-js keeps the session in localStorage and refreshes it itself.
// Typed by the database (database.types.ts, from the migrations by `make types`): a renamed column
// or a changed RPC fails the type check, not the hotel's screen.
export const supabase = createClient<Database>(env.supabaseUrl, env.supabaseKey, {
  auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, flowType: "pkce" },
});
