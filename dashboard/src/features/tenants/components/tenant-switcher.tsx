import { NativeSelect } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import type { Membership } from "../api/get-memberships";

export function TenantSwitcher({ memberships, current }: { memberships: Membership[]; current: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  if (memberships.length < 2) {
    const only = memberships[0];
    return only ? <span>{only.tenantName}</span> : null;
  }
  return (
    <NativeSelect
      label={t("tenants.switch")}
      value={current}
      onChange={(e) => void navigate(`/t/${e.currentTarget.value}/today`)}
      data={memberships.map((m) => ({ value: m.tenantId, label: m.tenantName }))}
    />
  );
}
