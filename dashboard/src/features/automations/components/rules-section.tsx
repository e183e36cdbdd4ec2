import { Alert, Button, Card, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../../lib/errors";
import { saveRule } from "../api/save-rule";
import { WITH_OFFSET, type Property, type Rule, type RuleInput } from "../api/types";
import { useAutomationsMutation } from "../api/use-automations-mutation";
import { RuleForm } from "./rule-form";

const NEW_RULE: RuleInput = {
  name: "",
  trigger: "before_arrival",
  offsetDays: 1,
  sendAtLocal: "10:00",
  templateKey: "",
  propertyId: null,
  isActive: true,
};

// "3 days before arrival, at 10:00": what triggers a rule and when it sends, in words.
export function useDescribeRule() {
  const { t } = useTranslation();
  return (rule: Pick<Rule, "trigger" | "offsetDays" | "sendAtLocal">): string => {
    const when = WITH_OFFSET.includes(rule.trigger)
      ? t(`automations.when.${rule.trigger}`, { count: rule.offsetDays })
      : t(`automations.when.${rule.trigger}`);
    const at = rule.sendAtLocal
      ? t("automations.when.at", { time: rule.sendAtLocal })
      : rule.trigger === "booking_confirmed" || rule.trigger === "booking_cancelled"
        ? t("automations.when.atOnce")
        : rule.trigger === "after_departure"
          ? t("automations.when.atCheckOut")
          : t("automations.when.atCheckIn");
    return `${when}, ${at}`;
  };
}

interface Props {
  tenantId: string;
  rules: Rule[];
  templateKeys: string[];
  properties: Property[];
  canEdit: boolean;
}

export function RulesSection({ tenantId, rules, templateKeys, properties, canEdit }: Props) {
  const { t } = useTranslation();
  const describe = useDescribeRule();
  // null: no form; "new": adding; else the id of the rule being edited.
  const [editing, setEditing] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const save = useAutomationsMutation(tenantId, (input: { id: string | null; rule: RuleInput }) =>
    saveRule(tenantId, input.id, input.rule),
  );
  const current = editing && editing !== "new" ? rules.find((r) => r.id === editing) : undefined;
  const propertyName = (id: string | null) =>
    id ? (properties.find((p) => p.id === id)?.name ?? "") : t("automations.rules.allProperties");
  const error =
    save.error instanceof UserFacingError ? save.error : save.error ? new UserFacingError("errors.unknown") : null;

  return (
    <Card withBorder component="section" aria-labelledby="rules-title">
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h3" id="rules-title">
            {t("automations.rules.title")}
          </Title>
          {canEdit && editing === null && (
            <Button variant="default" onClick={() => (setSaved(null), save.reset(), setEditing("new"))}>
              {t("automations.rules.add")}
            </Button>
          )}
        </Group>
        <Text size="sm">{t("automations.rules.intro")}</Text>
        {saved && (
          <Alert color="green" role="status">
            {t("automations.rules.saved", { name: saved })}
          </Alert>
        )}
        {editing !== null && (
          <Card withBorder>
            <Title order={3} size="h4" mb="sm">
              {current ? t("automations.rules.editTitle", { name: current.name }) : t("automations.rules.addTitle")}
            </Title>
            {error && (
              <Alert color="red" role="alert" mb="sm">
                {t(error.key, { detail: error.detail })}
              </Alert>
            )}
            <RuleForm
              key={editing}
              initial={current ? { ...current } : NEW_RULE}
              templateKeys={templateKeys}
              properties={properties}
              saving={save.isPending}
              onCancel={() => (save.reset(), setEditing(null))}
              onSave={(rule) =>
                save.mutate(
                  { id: current?.id ?? null, rule },
                  { onSuccess: () => (setSaved(rule.name.trim()), setEditing(null)) },
                )
              }
            />
          </Card>
        )}
        {rules.length === 0 ? (
          <Text>{t("automations.rules.none")}</Text>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("automations.rules.name")}</Table.Th>
                  <Table.Th>{t("automations.rules.when")}</Table.Th>
                  <Table.Th>{t("automations.rules.template")}</Table.Th>
                  {properties.length > 1 && <Table.Th>{t("automations.rules.property")}</Table.Th>}
                  <Table.Th>{t("automations.rules.status")}</Table.Th>
                  {canEdit && <Table.Th>{t("automations.actions")}</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rules.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>{r.name}</Table.Td>
                    <Table.Td>{describe(r)}</Table.Td>
                    <Table.Td>{r.templateKey}</Table.Td>
                    {properties.length > 1 && <Table.Td>{propertyName(r.propertyId)}</Table.Td>}
                    <Table.Td>
                      <Text fw={r.isActive ? 600 : 400}>
                        {r.isActive ? t("automations.rules.on") : t("automations.rules.off")}
                      </Text>
                    </Table.Td>
                    {canEdit && (
                      <Table.Td>
                        <Button
                          size="compact-sm"
                          variant="default"
                          aria-label={t("automations.rules.editLabel", { name: r.name })}
                          onClick={() => (setSaved(null), save.reset(), setEditing(r.id))}
                        >
                          {t("automations.edit")}
                        </Button>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Card>
  );
}
