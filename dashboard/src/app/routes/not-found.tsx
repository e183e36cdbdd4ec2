import { Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function Component() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t("errors.notFound")}</Title>
      <Text>{t("reservations.notFound")}</Text>
    </Stack>
  );
}
