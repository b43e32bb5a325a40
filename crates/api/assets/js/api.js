// The JSON API client: bearer token from login (kept in sessionStorage, so it
// ends with the browser tab), an Idempotency-Key on every POST, errors in the
// contract's shape ({"error": {status, code, message, problems[]}}).

import { lang, t } from "./i18n.js";

const TOKEN_KEY = "reliefhub.token";
const USER_KEY = "reliefhub.user";

let onUnauthorized = () => {};

/** Called when the server answers 401 to a signed-in request (expired or revoked token). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export function session() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const user = sessionStorage.getItem(USER_KEY);
  if (!token || !user) return null;
  try {
    return { token, user: JSON.parse(user) };
  } catch {
    return null;
  }
}

export function saveSession(token, user) {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  refs.clear();
}

/**
 * A new idempotency key. crypto.randomUUID exists only in secure contexts
 * (https or localhost); on a plain-http hub network fall back to a v4 UUID
 * from crypto.getRandomValues, which every browser offers.
 */
export function newKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "http";
    this.problems = Array.isArray(e.problems) ? e.problems : [];
    this.id = e.id;
  }
}

async function request(method, path, body, key) {
  const headers = { Accept: "application/json" };
  const s = session();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (method !== "GET") headers["Idempotency-Key"] = key || newKey();
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api${path}`, init);
  } catch (err) {
    throw new ApiError(0, { error: { code: "network", message: String(err.message || err) } });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: { message: text.slice(0, 300) } };
    }
  }
  if (!res.ok) {
    // Kept for the end-to-end test: a view must not call a route its user may not use.
    (window.__reliefhubFailed = window.__reliefhubFailed || []).push(`${res.status} ${method} ${path}`);
    if (res.status === 401 && s && path !== "/login") {
      clearSession();
      onUnauthorized();
    }
    throw new ApiError(res.status, data);
  }
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  /** POST with a fresh Idempotency-Key, or `key` to retry the same operation safely. */
  post: (path, body, key) => request("POST", path, body === undefined ? {} : body, key),
};

/** Turns a report table into an array of row objects, whichever JSON shape the server uses. */
export function tableRows(table) {
  if (Array.isArray(table)) return table;
  if (!table || !Array.isArray(table.rows)) return [];
  const names = (table.columns || []).map((c) => (typeof c === "string" ? c : c.name));
  return table.rows.map((row) => {
    if (!Array.isArray(row)) return row;
    const o = {};
    names.forEach((n, i) => (o[n] = row[i]));
    return o;
  });
}

let hubDate = null;
/**
 * The hub's calendar date (YYYY-MM-DD): the server's `today` from /api/health
 * when it reports one (a hub may run on a fixed date), else the browser's.
 */
export function hubToday() {
  if (!hubDate) {
    hubDate = request("GET", "/health")
      .then((h) => (h && /^\d{4}-\d{2}-\d{2}$/.test(h.today || "") ? h.today : new Date().toISOString().slice(0, 10)))
      .catch(() => new Date().toISOString().slice(0, 10));
  }
  return hubDate;
}

// Reference data (items, nodes, destinations, organisations) changes rarely:
// one request per page load, shared by every view.
const refs = new Map();
/**
 * GET `path` once per page load (reference lists). Items, organisations and
 * destinations come with their names in the user's language as `name`
 * (English when they have none in it; `name_en` keeps the English one).
 */
export function ref(path) {
  if (!refs.has(path)) {
    refs.set(
      path,
      request("GET", path).catch((err) => {
        refs.delete(path);
        throw err;
      })
    );
  }
  return refs.get(path).then(localNames);
}

function localNames(list) {
  if (!Array.isArray(list)) return list;
  const l = lang();
  return list.map((r) => {
    if (!r || typeof r !== "object") return r;
    if ("name_fr" in r) return { ...r, name_en: r.name, name: (l !== "en" && r[`name_${l}`]) || r.name };
    // The hub's own nodes carry one name; the dashboard's strings name the built-in ones.
    if ("kind" in r && "locode" in r && typeof r.code === "string") {
      const key = `node.${r.code}`;
      return { ...r, name_en: r.name, name: t(key) !== key ? t(key) : r.name };
    }
    return r;
  });
}

/** Forgets the reference lists (after master data changed). */
export function forgetRefs() {
  refs.clear();
}

/** The query parameters of the current view's address (`#/view?code=X`). */
export function viewParams() {
  const q = location.hash.split("?")[1] || "";
  return new URLSearchParams(q);
}

/** Adds `days` to a YYYY-MM-DD date. */
export function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (YYYY-MM-DD). */
export function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000);
}

/** Fetches a signed-in file (a printed document) and saves it under `filename`. */
export async function download(path, filename) {
  const s = session();
  const res = await fetch(`/api${path}`, { headers: s ? { Authorization: `Bearer ${s.token}` } : {} });
  if (!res.ok) {
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    throw new ApiError(res.status, data);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob;
}
