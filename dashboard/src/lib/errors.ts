// Turns what the API answered into words for staff: never a raw SQL message or a stack trace.
export interface ApiError {
  code?: string;
  message?: string;
  details?: string | null;
  hint?: string | null;
}

export class UserFacingError extends Error {
  constructor(
    readonly key: string,
    readonly detail?: string,
  ) {
    super(key);
  }
}

export function toUserError(error: ApiError | null | undefined): UserFacingError {
  if (!error) return new UserFacingError("errors.unknown");
  switch (error.code) {
    case "PGRST301":
    case "PGRST303":
      return new UserFacingError("errors.session");
    case "42501":
    case "P0002":
      return new UserFacingError("errors.notAllowed");
    case "22023":
      return new UserFacingError("errors.badInput", error.message);
    case "PGRST003":
    case "57014":
      return new UserFacingError("errors.busy");
    default:
      return new UserFacingError("errors.unknown");
  }
}
