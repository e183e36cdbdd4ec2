import { toUserError, UserFacingError, type ApiError } from "../../../lib/errors";

// The PMS screen's API errors in words: the app's general ones, plus the answers its RPCs give.
export function toPmsError(error: ApiError | null | undefined): UserFacingError {
  // PT404: the one answer for "does not exist" and "not yours" (20261202005000).
  if (error?.code === "PT404" || error?.code === "P0002") return new UserFacingError("pms.errors.gone");
  // 23514: a secret in the wrong shape; the database says which shape it needs, in words.
  if (error?.code === "23514") return new UserFacingError("pms.errors.secretRejected", error.message);
  return toUserError(error);
}

export function errorKey(error: unknown): { key: string; detail?: string } {
  return error instanceof UserFacingError ? { key: error.key, detail: error.detail } : { key: "errors.unknown" };
}
