import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { stringsFor } from "./locales";

export const languages = { en: "English", de: "Deutsch" } as const;
export type Language = keyof typeof languages;

const stored = typeof localStorage !== "undefined" ? localStorage.getItem("language") : null;
const browser = typeof navigator !== "undefined" ? navigator.language.slice(0, 2) : "en";
const initial = [stored, browser].find((l): l is Language => !!l && l in languages) ?? "en";

void i18n.use(initReactI18next).init({
  resources: Object.fromEntries(Object.keys(languages).map((l) => [l, { translation: stringsFor(l) }])),
  lng: initial,
  fallbackLng: "en",
  interpolation: { escapeValue: false }, // React escapes
  showSupportNotice: false,
});

i18n.on("languageChanged", (lng) => {
  document.documentElement.lang = lng;
  localStorage.setItem("language", lng);
});
document.documentElement.lang = initial;

export default i18n;
