import { useMutation } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { UserFacingError } from "../../../lib/errors";

export interface Credentials {
  email: string;
  password: string;
}

export async function signIn({ email, password }: Credentials): Promise<void> {
  const { error } = await supabase.auth.signInWithPassword({ email, password });
  if (error) {
    throw new UserFacingError(error.status === 400 ? "auth.invalid" : "errors.unknown");
  }
}

export function useSignIn() {
  return useMutation({ mutationFn: signIn });
}
