// Parsing and checking JSON bodies before they reach PostgreSQL's jsonb, which is stricter than
// JSON.parse: it refuses NUL characters and unpaired surrogates, and a number that JavaScript
// reads as Infinity has no faithful representation. Those are the client's fault: 422, not 500.
import { HttpError } from "./http.ts";

export const MAX_DEPTH = 64;

const decoder = new TextDecoder("utf-8", { fatal: true });

export function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "invalid_json", `the body is not valid JSON: ${(error as Error).message}`.slice(0, 300));
  }
}

function unstorable(reason: string): HttpError {
  return new HttpError(422, "unprocessable_payload", reason);
}

function checkString(text: string, where: string): void {
  if (text.includes("\u0000")) throw unstorable(`${where} contains a NUL character, which cannot be stored`);
  if (!text.isWellFormed()) throw unstorable(`${where} contains an unpaired UTF-16 surrogate, which cannot be stored`);
}

/** Refuses values jsonb cannot hold as they are, and nesting deeper than MAX_DEPTH. */
export function assertStorable(value: unknown): void {
  const stack: Array<[unknown, number, string]> = [[value, 0, "(body)"]];
  while (stack.length > 0) {
    const [current, depth, where] = stack.pop()!;
    if (typeof current === "string") {
      checkString(current, where);
    } else if (typeof current === "number") {
      if (!Number.isFinite(current)) throw unstorable(`${where} is a number out of range`);
    } else if (current !== null && typeof current === "object") {
      if (depth >= MAX_DEPTH) throw unstorable(`the body is nested more than ${MAX_DEPTH} levels deep`);
      if (Array.isArray(current)) {
        current.forEach((item, i) => stack.push([item, depth + 1, `${where}/${i}`]));
      } else {
        for (const [key, item] of Object.entries(current)) {
          checkString(key, `a key in ${where}`);
          stack.push([item, depth + 1, `${where}/${key}`]);
        }
      }
    }
  }
}

/** JSON with object keys sorted at every level: equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
    return Object.fromEntries(
      Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });
}
