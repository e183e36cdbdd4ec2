import { ResetPassword } from "../../features/account/components/reset-password";

export function Component() {
  return <ResetPassword />;
}
