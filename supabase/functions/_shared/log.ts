// One JSON object per line on stdout, which Supabase's log explorer and `docker logs` both
// index. Field names match the worker's (requestId, tenantId) so one query follows a request.
export type LogLine = Record<string, unknown>;
export type LogSink = (line: LogLine) => void;

export const stdoutSink: LogSink = (line) => {
  console.log(JSON.stringify({ ts: new Date().toISOString(), ...line }));
};
