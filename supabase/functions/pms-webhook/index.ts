// Entry point on Supabase (`supabase functions deploy pms-webhook`, verify_jwt = false: PMSs
// authenticate with their own schemes). The logic lives in handler.ts.
import { createHandler } from "./handler.ts";

Deno.serve(createHandler());
