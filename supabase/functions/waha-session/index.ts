// Entry point on Supabase (`supabase functions deploy waha-session`; verify_jwt = false, as the
// function verifies users' tokens itself: auth.ts). The logic lives in handler.ts.
import { createHandler } from "./handler.ts";

Deno.serve(createHandler());
