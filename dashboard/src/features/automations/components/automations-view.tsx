import { Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { QueryState } from "../../../components/ui/query-state";
import { useAutomations } from "../api/get-automations";
import { usePreviewReservations } from "../api/get-preview-reservations";
import { QuietHoursSection } from "./quiet-hours-section";
import { RulesSection } from "./rules-section";
import { TemplatesSection } from "./templates-section";

// The hotel's automations: which messages go out when (rules), what they say (templates per
// language, previewed for a real guest), and when nothing is sent (quiet hours). Owners and admins
// edit; front desk reads (RLS refuses their writes either way).
export function AutomationsView({ tenantId, canEdit }: { tenantId: string; canEdit: boolean }) {
  const { t } = useTranslation();
  const automations = useAutomations(tenantId);
  const reservations = usePreviewReservations(tenantId);
  return (
    <Stack>
      <div>
        <Title order={1}>{t("automations.title")}</Title>
        {!canEdit && <Text>{t("automations.readOnly")}</Text>}
      </div>
      <QueryState query={automations}>
        {(data) => (
          <>
            <RulesSection
              tenantId={tenantId}
              rules={data.rules}
              templateKeys={[...new Set(data.templates.map((tpl) => tpl.key))]}
              properties={data.properties}
              canEdit={canEdit}
            />
            <QueryState query={reservations}>
              {(list) => (
                <TemplatesSection
                  tenantId={tenantId}
                  templates={data.templates}
                  fallbackLanguage={data.fallbackLanguage}
                  reservations={list}
                  canEdit={canEdit}
                />
              )}
            </QueryState>
            <QuietHoursSection tenantId={tenantId} properties={data.properties} canEdit={canEdit} />
          </>
        )}
      </QueryState>
    </Stack>
  );
}
