import { useMutation } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { useSession } from "../hooks/use-session";

export async function signOut(): Promise<void> {
  // Local scope: this browser's session ends even when the server cannot be reached.
  await supabase.auth.signOut({ scope: "local" });
}

export function useSignOut() {
  const { expectSignOut } = useSession();
  return useMutation({
    mutationFn: async () => {
      expectSignOut();
      await signOut();
    },
  });
}
