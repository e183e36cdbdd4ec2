import { toUserError, UserFacingError, type ApiError } from "../../../lib/errors";

// The database's answers to an Automations save, in words. The template check's refusal names
// the unknown placeholders in its details (migration 20261203005000); the others are the tables'
// own constraints.
export function toAutomationsError(
  error: ApiError | null | undefined,
  what: "rule" | "template" | "hotel",
): UserFacingError {
  if (error?.code === "23514" && what === "template") {
    if (error.details === "unbalanced") return new UserFacingError("automations.errors.unbalanced");
    if (error.details) return new UserFacingError("automations.errors.unknownPlaceholders", formatNames(error.details));
  }
  if (error?.code === "23505") {
    return new UserFacingError(
      what === "rule" ? "automations.errors.duplicateRule" : "automations.errors.duplicateTemplate",
    );
  }
  if (error?.code === "23514" || error?.code === "22007" || error?.code === "22008" || error?.code === "22P02") {
    return new UserFacingError("automations.errors.invalid");
  }
  if (error?.code === "PT404" || error?.code === "P0002") return new UserFacingError("automations.errors.notFound");
  return toUserError(error);
}

// "room, Guest" -> "{{room}}, {{Guest}}": the names as the staff typed them.
export function formatNames(names: string | string[]): string {
  const list = Array.isArray(names) ? names : names.split(",").map((n) => n.trim());
  return list.map((n) => `{{${n}}}`).join(", ");
}
