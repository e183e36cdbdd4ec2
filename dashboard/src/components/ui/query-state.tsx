import { Alert, Button, Group, Loader } from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { UserFacingError } from "../../lib/errors";

// A query's three states: loading (announced), failed (in words, with a retry), or its data.
export function QueryState<T>({ query, children }: { query: UseQueryResult<T>; children: (data: T) => ReactNode }) {
  const { t } = useTranslation();
  if (query.isPending) {
    return (
      <Group role="status" gap="xs">
        <Loader size="sm" aria-hidden />
        {t("app.loading")}
      </Group>
    );
  }
  if (query.isError) {
    const error = query.error instanceof UserFacingError ? query.error : new UserFacingError("errors.unknown");
    return (
      <Alert color="red" role="alert">
        {t(error.key, { detail: error.detail })}{" "}
        <Button variant="subtle" size="compact-sm" onClick={() => void query.refetch()}>
          {t("errors.retry")}
        </Button>
      </Alert>
    );
  }
  return <>{children(query.data)}</>;
}
