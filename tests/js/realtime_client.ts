// supabase-js's Realtime client, driven line by line by tests/test_realtime_supabase_js.py.
//
//   deno run --allow-net --allow-env realtime_client.ts <supabase url> <anon key> <access token>
//
// Subscribes, as a signed-in dashboard would, to inserts into public.message_logs and to the
// private topic given by the first `private <topic>` command; prints one JSON object a line for
// each thing it sees ({kind: "status" | "change" | "broadcast" | "system", ...}). Commands on
// stdin: `auth <token>` (a refreshed access token, what supabase-js does after a refresh),
// `private <topic>`, `quit`.
import { createClient } from "@supabase/supabase-js";

const [url, anonKey, firstToken] = Deno.args;
// The user's session token, as supabase-js hands it to Realtime: through the accessToken
// callback, which realtime-js calls on every join (a token set once with setAuth(token) would
// be replaced by the callback's answer, the anon key without a session, on the next join).
let accessToken = firstToken;
const supabase = createClient(url, anonKey, { accessToken: () => Promise.resolve(accessToken) });

function say(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

await supabase.realtime.setAuth();
supabase
  .channel("staff")
  .on("postgres_changes", { event: "INSERT", schema: "public", table: "message_logs" }, (change) => {
    const record = change.new as { id: number; tenant_id: string };
    say({ kind: "change", channel: "staff", id: record.id, tenant_id: record.tenant_id });
  })
  .on("system", {}, (payload) => say({ kind: "system", channel: "staff", message: payload.message }))
  .subscribe((status, error) => say({ kind: "status", channel: "staff", status, error: error?.message ?? null }));

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buffer = "";
for await (const chunk of lines) {
  buffer += chunk;
  let end: number;
  while ((end = buffer.indexOf("\n")) >= 0) {
    const [command, argument] = buffer.slice(0, end).trim().split(" ");
    buffer = buffer.slice(end + 1);
    if (command === "auth") {
      accessToken = argument;
      await supabase.realtime.setAuth();
      say({ kind: "auth" });
    } else if (command === "private") {
      supabase
        .channel(argument, { config: { private: true } })
        .on("broadcast", { event: "*" }, (message) => {
          say({ kind: "broadcast", channel: argument, event: message.event, payload: message.payload });
        })
        .subscribe((status, error) => {
          say({ kind: "status", channel: argument, status, error: error?.message ?? null });
        });
    } else if (command === "quit") {
      await supabase.removeAllChannels();
      Deno.exit(0);
    }
  }
}
