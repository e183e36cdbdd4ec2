// The interface strings: the app's own (src/locales) and each feature's
// (src/features/<feature>/locales), merged per language. A feature owns its strings under its own
// top-level key, so features add screens without touching each other's files.
type Strings = { [key: string]: string | Strings };

const modules = import.meta.glob<Strings>(["../locales/*.json", "../features/*/locales/*.json"], {
  eager: true,
  import: "default",
});

function merge(into: Strings, from: Strings): Strings {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    into[key] =
      typeof value === "object" && typeof existing === "object" ? merge({ ...existing }, value) : value;
  }
  return into;
}

export function stringsFor(language: string): Strings {
  return Object.entries(modules)
    .filter(([path]) => path.endsWith(`/${language}.json`))
    .sort(([a], [b]) => a.localeCompare(b))
    .reduce<Strings>((all, [, strings]) => merge(all, strings), {});
}
