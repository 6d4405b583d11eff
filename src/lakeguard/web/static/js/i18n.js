// Chinese and English: dictionaries in /static/i18n, the choice remembered in the browser and
// defaulting to the browser's language. Elements with data-i18n="key" are translated in place.

const LANGS = ["zh", "en"];
const dictionaries = {};
const listeners = [];
let lang = "en";

export function defaultLang() {
  const saved = localStorage.getItem("lakeguard.lang");
  if (LANGS.includes(saved)) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export async function loadLanguages() {
  await Promise.all(
    LANGS.map(async (code) => {
      const response = await fetch(`/static/i18n/${code}.json`);
      dictionaries[code] = await response.json();
    }),
  );
  setLang(defaultLang(), { remember: false });
}

export const currentLang = () => lang;

export function setLang(code, { remember = true } = {}) {
  lang = LANGS.includes(code) ? code : "en";
  if (remember) localStorage.setItem("lakeguard.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  translatePage();
  for (const listener of listeners) listener(lang);
}

export const onLangChange = (listener) => listeners.push(listener);

// The text for a key, with {name} placeholders filled; the key itself when it is missing, so
// a forgotten translation shows up instead of an empty label.
export function t(key, vars = {}) {
  const text = dictionaries[lang]?.[key] ?? dictionaries.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// A bilingual name from the scenario ({zh, en}), in the page's language.
export const nameOf = (name) => (name ? name[lang] || name.en || name.zh : "");

export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return t("unit.seconds", { n: s });
  return t("unit.minutes", { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") });
}

export function formatTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", {
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}
