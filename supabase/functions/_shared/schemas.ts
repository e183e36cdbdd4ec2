// The providers' JSON Schemas from shared/schemas (the worker validates with the same files).
// Imported statically so `supabase functions deploy` bundles them with the function.
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import canonicalReservation from "../../../shared/schemas/canonical-reservation.schema.json" with { type: "json" };
import apaleo from "../../../shared/schemas/webhooks/apaleo.schema.json" with { type: "json" };
import cloudbeds from "../../../shared/schemas/webhooks/cloudbeds.schema.json" with { type: "json" };
import generic from "../../../shared/schemas/webhooks/generic.schema.json" with { type: "json" };
import guesty from "../../../shared/schemas/webhooks/guesty.schema.json" with { type: "json" };
import mews from "../../../shared/schemas/webhooks/mews.schema.json" with { type: "json" };
import waha from "../../../shared/schemas/webhooks/waha.schema.json" with { type: "json" };
import { HttpError } from "./http.ts";

const SCHEMAS = { apaleo, cloudbeds, generic, guesty, mews, waha } as const;
export type SchemaName = keyof typeof SCHEMAS;

let ajv: Ajv2020 | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

// Compiled on first use: an isolate serving one provider never pays for the others.
function validator(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (validate === undefined) {
    // strictSchema catches typos in keywords; the strictTypes/strictRequired checks would reject
    // ordinary if/then and allOf idioms the Python validator accepts.
    ajv ??= new Ajv2020({
      allErrors: false,
      strictSchema: true,
      strictNumbers: true,
      strictTypes: false,
      strictRequired: false,
      strictTuples: false,
    }).addSchema(canonicalReservation);
    validate = ajv.compile(SCHEMAS[name]);
    compiled.set(name, validate);
  }
  return validate;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(body)" : error.instancePath;
  const allowed = error.keyword === "enum" ? `: ${JSON.stringify(error.params.allowedValues)}` : "";
  return `${where} ${error.message ?? "is invalid"}${allowed}`;
}

/** Throws 422 with the first violation, e.g. `/data/status must be equal to one of the allowed values`. */
export function assertMatches(name: SchemaName, value: unknown): void {
  const validate = validator(name);
  if (!validate(value)) {
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== "if");
    const reason = errors.length > 0 ? describe(errors[0]) : "does not match the schema";
    throw new HttpError(
      422,
      "schema_violation",
      `payload does not match the ${name} webhook schema: ${reason}`.slice(0, 500),
    );
  }
}
