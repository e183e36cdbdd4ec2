import { useSearchParams } from "react-router";
import { AcceptInvitation } from "../../features/auth/components/accept-invitation";

export function Component() {
  const [params] = useSearchParams();
  return <AcceptInvitation token={params.get("invitation") ?? ""} />;
}
