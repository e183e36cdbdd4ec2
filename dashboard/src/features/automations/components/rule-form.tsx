import { Button, Checkbox, Group, NativeSelect, NumberInput, Stack, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { readableDescription } from "./styles";
import { TRIGGERS, WITH_OFFSET, type Property, type RuleInput, type Trigger } from "../api/types";

type Errors = Partial<Record<"name" | "offsetDays" | "sendAtLocal" | "templateKey", string>>;

// What the database would refuse, said before asking it (same limits as automation_rules' checks).
export function validateRule(rule: RuleInput): Errors {
  const errors: Errors = {};
  const name = rule.name.trim();
  if (name.length === 0) errors.name = "automations.rules.errors.nameRequired";
  else if (name.length > 200) errors.name = "automations.rules.errors.nameTooLong";
  if (
    WITH_OFFSET.includes(rule.trigger) &&
    !(Number.isInteger(rule.offsetDays) && rule.offsetDays >= 0 && rule.offsetDays <= 365)
  )
    errors.offsetDays = "automations.rules.errors.offset";
  if (rule.sendAtLocal && !/^([01]\d|2[0-3]):[0-5]\d$/.test(rule.sendAtLocal))
    errors.sendAtLocal = "automations.rules.errors.time";
  if (!rule.templateKey) errors.templateKey = "automations.rules.errors.template";
  return errors;
}

interface Props {
  initial: RuleInput;
  templateKeys: string[];
  properties: Property[];
  saving: boolean;
  onSave: (rule: RuleInput) => void;
  onCancel: () => void;
}

export function RuleForm({ initial, templateKeys, properties, saving, onSave, onCancel }: Props) {
  const { t } = useTranslation();
  const [rule, setRule] = useState<RuleInput>(initial);
  const [errors, setErrors] = useState<Errors>({});
  const set = <K extends keyof RuleInput>(key: K, value: RuleInput[K]) => setRule((r) => ({ ...r, [key]: value }));
  const keys =
    templateKeys.includes(initial.templateKey) || !initial.templateKey
      ? templateKeys
      : [initial.templateKey, ...templateKeys];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = validateRule(rule);
    setErrors(found);
    if (Object.keys(found).length === 0) onSave(rule);
  };
  const err = (k: keyof Errors) => (errors[k] ? t(errors[k]) : undefined);
  const timeHint =
    rule.trigger === "booking_confirmed" || rule.trigger === "booking_cancelled"
      ? t("automations.rules.timeHintEvent")
      : rule.trigger === "after_departure"
        ? t("automations.rules.timeHintCheckOut")
        : t("automations.rules.timeHintCheckIn");

  return (
    <form onSubmit={submit} noValidate aria-label={t("automations.rules.formLabel")}>
      <Stack gap="sm">
        <TextInput
          label={t("automations.rules.name")}
          value={rule.name}
          onChange={(e) => set("name", e.currentTarget.value)}
          error={err("name")}
          required
        />
        <NativeSelect
          label={t("automations.rules.trigger")}
          value={rule.trigger}
          onChange={(e) => set("trigger", e.currentTarget.value as Trigger)}
          data={TRIGGERS.map((value) => ({ value, label: t(`automations.triggers.${value}`) }))}
        />
        {WITH_OFFSET.includes(rule.trigger) && (
          <NumberInput
            label={t("automations.rules.offsetDays")}
            value={rule.offsetDays}
            onChange={(v) => set("offsetDays", typeof v === "number" ? v : Number.NaN)}
            min={0}
            max={365}
            allowDecimal={false}
            error={err("offsetDays")}
          />
        )}
        <TextInput
          type="time"
          label={t("automations.rules.sendAt")}
          styles={readableDescription}
          description={timeHint}
          value={rule.sendAtLocal ?? ""}
          onChange={(e) => set("sendAtLocal", e.currentTarget.value || null)}
          error={err("sendAtLocal")}
        />
        <NativeSelect
          label={t("automations.rules.template")}
          value={rule.templateKey}
          onChange={(e) => set("templateKey", e.currentTarget.value)}
          data={[
            { value: "", label: t("automations.rules.chooseTemplate") },
            ...keys.map((k) => ({ value: k, label: k })),
          ]}
          error={err("templateKey")}
        />
        {properties.length > 1 && (
          <NativeSelect
            label={t("automations.rules.property")}
            value={rule.propertyId ?? ""}
            onChange={(e) => set("propertyId", e.currentTarget.value || null)}
            data={[
              { value: "", label: t("automations.rules.allProperties") },
              ...properties.map((p) => ({ value: p.id, label: p.name })),
            ]}
          />
        )}
        <Checkbox
          label={t("automations.rules.enabled")}
          checked={rule.isActive}
          onChange={(e) => set("isActive", e.currentTarget.checked)}
        />
        <Group>
          <Button type="submit" loading={saving}>
            {t("automations.save")}
          </Button>
          <Button variant="default" onClick={onCancel} disabled={saving}>
            {t("automations.cancel")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
