// Entry point on Supabase (`supabase functions deploy waha-webhook`, verify_jwt = false: WAHA
// signs with an HMAC instead). The logic lives in handler.ts.
import { createHandler } from "./handler.ts";

Deno.serve(createHandler());
