import { useMutation, useQueryClient } from "@tanstack/react-query";

// A save, then the screen's data again (awaited: the saved values show when the save reports done).
export function useAutomationsMutation<T>(tenantId: string, fn: (input: T) => Promise<void>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => client.invalidateQueries({ queryKey: ["automations", tenantId] }),
  });
}
