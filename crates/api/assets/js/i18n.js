// UI strings: one JSON file per language under assets/i18n/. English is
// complete and is the fallback for any key another language lacks.

const RTL = new Set(["ar"]);
export const LANGUAGES = ["en", "fr", "ar", "ru"];
const LANG_KEY = "reliefhub.lang";

let english = {};
let strings = {};
let current = "en";

async function load(lang) {
  const res = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url));
  if (!res.ok) throw new Error(`no strings for ${lang}`);
  return res.json();
}

export function lang() {
  return current;
}

export function preferredLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && LANGUAGES.includes(saved)) return saved;
  for (const l of navigator.languages || []) {
    const base = l.slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

/** Loads a language, sets <html lang dir>, and translates static [data-i18n] elements. */
export async function setLanguage(l) {
  if (!LANGUAGES.includes(l)) l = "en";
  if (!Object.keys(english).length) english = await load("en");
  strings = l === "en" ? english : await load(l).catch(() => ({}));
  current = l;
  localStorage.setItem(LANG_KEY, l);
  const html = document.documentElement;
  html.lang = l;
  html.dir = RTL.has(l) ? "rtl" : "ltr";
  translateStatic(document);
}

export function translateStatic(root) {
  root.querySelectorAll("[data-i18n]").forEach((node) => {
    node.textContent = t(node.dataset.i18n);
  });
  root.querySelectorAll("[data-i18n-aria-label]").forEach((node) => {
    node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  });
}

/** The string for `key` with {name} placeholders filled from `vars`. */
export function t(key, vars) {
  let s = strings[key];
  if (s === undefined) s = english[key];
  if (s === undefined) s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

/** Numbers in the reader's language (digits stay Latin for Arabic, as hub paperwork uses). */
export function num(value, digits = 0) {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const locale = current === "ar" ? "ar-u-nu-latn" : current;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}
