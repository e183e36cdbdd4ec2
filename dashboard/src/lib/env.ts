// The build-time configuration: the Supabase project's URL and its publishable key.
function required(name: "VITE_SUPABASE_URL" | "VITE_SUPABASE_PUBLISHABLE_KEY"): string {
  const value = import.meta.env[name] as string | undefined;
  if (!value) {
    throw new Error(`${name} is not set: build the dashboard with it in the environment`);
  }
  return value;
}

export const env = {
  supabaseUrl: required("VITE_SUPABASE_URL"),
  supabaseKey: required("VITE_SUPABASE_PUBLISHABLE_KEY"),
};
