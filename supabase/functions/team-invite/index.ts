// Entry point on Supabase (`supabase functions deploy team-invite`; verify_jwt = false, as the
// function verifies users' tokens itself: ../waha-session/auth.ts). The logic lives in handler.ts.
import { createHandler } from "./handler.ts";

Deno.serve(createHandler());
