import { ForgotPasswordForm } from "../../features/account/components/forgot-password-form";

export function Component() {
  return <ForgotPasswordForm />;
}
