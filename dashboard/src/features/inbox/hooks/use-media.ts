import { useEffect, useRef, useState } from "react";
import { UserFacingError } from "../../../lib/errors";
import { fetchMedia } from "../api/media";

export type MediaState =
  | { kind: "closed" }
  | { kind: "loading" }
  | { kind: "open"; url: string; size: number }
  | { kind: "failed"; error: UserFacingError };

// A message's file, fetched when the person opens it and released when the message leaves the screen.
export function useMedia(tenantId: string, messageId: number) {
  const [state, setState] = useState<MediaState>({ kind: "closed" });
  const url = useRef<string | null>(null);

  useEffect(
    () => () => {
      if (url.current) URL.revokeObjectURL(url.current);
    },
    [],
  );

  const open = async () => {
    setState({ kind: "loading" });
    try {
      const blob = await fetchMedia(tenantId, messageId);
      if (url.current) URL.revokeObjectURL(url.current);
      url.current = URL.createObjectURL(blob);
      setState({ kind: "open", url: url.current, size: blob.size });
    } catch (error) {
      setState({ kind: "failed", error: error instanceof UserFacingError ? error : new UserFacingError("errors.unknown") });
    }
  };

  return { state, open };
}
