import { useEffect, useState } from "preact/hooks";
import { en, type MessageKey } from "./messages/en.ts";
import { zhCN } from "./messages/zh-CN.ts";

/**
 * Translatable strings: every visible string goes through `t(key, params)`. English is the
 * reference catalogue (its keys are the type); a missing translation falls back to English.
 * The language is the saved choice, else the browser's, else English.
 */
export type Lang = "en" | "zh-CN";
export const LANGS: readonly { id: Lang; label: string }[] = [
  { id: "en", label: "English" },
  { id: "zh-CN", label: "简体中文" },
];
const CATALOGUES: Record<Lang, Partial<Record<MessageKey, string>>> = { en, "zh-CN": zhCN };
const STORAGE_KEY = "livedrop.lang";

let current: Lang = initialLang();
document.documentElement.lang = current;
const listeners = new Set<() => void>();

function initialLang(): Lang {
  const saved = safeStorage()?.getItem(STORAGE_KEY);
  if (saved === "en" || saved === "zh-CN") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

function safeStorage(): Storage | undefined {
  try {
    return localStorage;
  } catch {
    return undefined; // private mode or blocked storage
  }
}

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  safeStorage()?.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  for (const fn of listeners) fn();
}

export type Params = Record<string, string | number>;

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: MessageKey, params?: Params): string {
  const template = CATALOGUES[current][key] ?? en[key];
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Re-renders the calling component when the language changes; returns `t`. */
export function useI18n(): typeof t {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const fn = () => setVersion((v) => v + 1);
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return t;
}

export type { MessageKey };
