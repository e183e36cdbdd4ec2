import { useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface TemplateChoice {
  key: string;
  languages: string[];
}

// The hotel's templates by key, each with the languages it is written in.
export async function getTemplates(tenantId: string): Promise<TemplateChoice[]> {
  const { data, error } = await supabase
    .from("message_templates")
    .select("key, language")
    .eq("tenant_id", tenantId)
    .order("key")
    .returns<{ key: string; language: string }[]>();
  if (error) throw toUserError(error);
  const byKey = new Map<string, string[]>();
  for (const row of data) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row.language]);
  return [...byKey].map(([key, languages]) => ({ key, languages: languages.sort() }));
}

export function useTemplates(tenantId: string) {
  return useQuery({ queryKey: ["inbox-templates", tenantId], queryFn: () => getTemplates(tenantId), staleTime: 60_000 });
}
