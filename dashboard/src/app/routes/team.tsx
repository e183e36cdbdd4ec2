import { Alert } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { TeamScreen } from "../../features/team/components/team-screen";
import { useTenant } from "../../features/tenants/hooks/use-tenant";

export function Component() {
  const { t } = useTranslation();
  const tenant = useTenant();
  // Not in staff's navigation; reached by URL, it says why (the RPCs would refuse anyway).
  if (tenant.role === "staff") return <Alert role="alert">{t("team.staffOnly")}</Alert>;
  return <TeamScreen tenantId={tenant.tenantId} myRole={tenant.role} timeZone={tenant.timezone} />;
}
