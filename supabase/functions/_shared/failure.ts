import { isTransientDbError } from "./db.ts";
import { errorResponse, HttpError } from "./http.ts";
import type { LogLine } from "./log.ts";

/** What a dashboard-facing function answers for an error, noted on its log line: the error's own
 * answer, a 503 while the database is unreachable, else a 500 that says nothing of the cause. */
export function failureResponse(
  error: unknown,
  requestId: string,
  line: LogLine,
  cors: Record<string, string>,
): Response {
  if (error instanceof HttpError) {
    Object.assign(line, {
      level: error.status >= 500 ? "error" : "warn",
      outcome: "rejected",
      reason: error.detail ?? error.message,
    });
    return errorResponse(error, requestId, cors);
  }
  if (isTransientDbError(error)) {
    Object.assign(line, { level: "error", outcome: "unavailable", reason: String(error) });
    return errorResponse(
      new HttpError(503, "unavailable", "the database is unreachable; try again", { "retry-after": "30" }),
      requestId,
      cors,
    );
  }
  Object.assign(line, {
    level: "error",
    outcome: "error",
    reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return errorResponse(new HttpError(500, "internal_error", "unexpected error; it has been logged"), requestId, cors);
}
