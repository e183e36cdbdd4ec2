// Entry point on Supabase (`supabase functions deploy waha-session`, verify_jwt = true). The
// logic lives in handler.ts.
import { createHandler } from "./handler.ts";

Deno.serve(createHandler());
