import { createClient } from "@supabase/supabase-js";
import { env } from "./env";

// The app's one client: supabase-js keeps the session in localStorage and refreshes it itself.
export const supabase = createClient(env.supabaseUrl, env.supabaseKey, {
  auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, flowType: "pkce" },
});
