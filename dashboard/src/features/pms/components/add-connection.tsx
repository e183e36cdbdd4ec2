import { Alert, Button, Card, Group, NativeSelect, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { errorKey } from "../api/errors";
import { PROVIDERS, useAddConnection, type Provider } from "../api/add-connection";

// A new PMS connection: which PMS, where its API is (empty: the vendor's production API), and
// the vendor's account id. Its credentials and webhook secret are set on its card afterwards.
export function AddConnection({ tenantId, taken }: { tenantId: string; taken: string[] }) {
  const { t } = useTranslation();
  const free = PROVIDERS.filter((p) => !taken.includes(p));
  const [provider, setProvider] = useState<Provider | "">("");
  const [apiBaseUrl, setApiBaseUrl] = useState("");
  const [account, setAccount] = useState("");
  const add = useAddConnection(tenantId);
  const failure = add.error ? errorKey(add.error) : null;
  const chosen = provider || free[0];
  const urlProblem = apiBaseUrl.trim() && !/^https?:\/\/\S+$/.test(apiBaseUrl.trim()) ? t("pms.urlInvalid") : null;
  if (free.length === 0 || !chosen) return null;

  return (
    <Card withBorder component="section" aria-labelledby="pms-add">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (urlProblem) return;
          add.mutate(
            { provider: chosen, apiBaseUrl, externalAccountId: account },
            {
              onSuccess: () => {
                setProvider("");
                setApiBaseUrl("");
                setAccount("");
              },
            },
          );
        }}
      >
        <Stack gap="sm">
          <Title order={2} size="h3" id="pms-add">
            {t("pms.add.title")}
          </Title>
          <Text size="sm">{t("pms.add.help")}</Text>
          <Group align="start" grow wrap="wrap">
            <NativeSelect
              label={t("pms.add.provider")}
              value={chosen}
              onChange={(e) => setProvider(e.currentTarget.value as Provider)}
              data={free.map((p) => ({ value: p, label: t(`pms.provider.${p}`) }))}
            />
            <TextInput
              label={t("pms.add.apiBaseUrl")}
              placeholder="https://"
              value={apiBaseUrl}
              onChange={(e) => setApiBaseUrl(e.currentTarget.value)}
              error={urlProblem}
              required={chosen === "generic"}
            />
            <TextInput
              label={t("pms.add.account")}
              value={account}
              onChange={(e) => setAccount(e.currentTarget.value)}
            />
          </Group>
          <Text size="sm">{t(`pms.add.hint.${chosen}`)}</Text>
          <Group>
            <Button type="submit" loading={add.isPending}>
              {t("pms.add.submit")}
            </Button>
          </Group>
          {add.isSuccess && (
            <Alert color="green" role="status">
              <Text size="sm" c="dark">
                {t("pms.add.done")}
              </Text>
            </Alert>
          )}
          {failure && (
            <Alert color="red" role="alert">
              {t(failure.key, { detail: failure.detail })}
            </Alert>
          )}
        </Stack>
      </form>
    </Card>
  );
}
