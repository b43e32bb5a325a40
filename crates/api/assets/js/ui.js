// Small DOM helpers. Everything is built with elements and text nodes (never
// innerHTML with data), so server strings cannot inject markup.

import { t, num } from "./i18n.js";

/** el("tag.class#id", {attr: value, onclick: fn}, ...children) */
export function el(spec, attrs, ...children) {
  const [, tag = "div", rest = ""] = spec.match(/^([a-z0-9]+)?(.*)$/i) || [];
  const node = document.createElement(tag || "div");
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") node.classList.add(part.slice(1));
    else node.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  for (const c of children) if (c) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function errorBox(err) {
  const problems = (err && err.problems) || [];
  return el(
    "div.alert.alert-error",
    { role: "alert", "data-testid": "error" },
    el("strong", t("error.title")),
    " ",
    (err && err.message) || String(err),
    err && err.id ? el("span.muted", ` (${t("error.reference")}: ${err.id})`) : null,
    problems.length
      ? el(
          "ul",
          problems.map((p) => el("li", [p.field, p.value !== undefined ? `= ${p.value}` : "", p.rule].filter(Boolean).join(" — ")))
        )
      : null
  );
}

export function loading() {
  return el("p.loading", { role: "status" }, t("app.loading"));
}

export function badge(kind, text) {
  return el(`span.badge.badge-${kind}`, text);
}

const STATUS_KIND = {
  received: "ok", delivered: "ok", met: "ok", accepted: "ok", fulfilled: "ok", available: "ok",
  "partly received": "warn", partial: "warn", "partly met": "warn", loaded: "info", departed: "info",
  manifested: "info", expected: "muted", open: "muted", proposed: "info", planned: "muted",
  expiring: "warn", expired: "bad", quarantined: "warn", cancelled: "muted", unmet: "bad", superseded: "muted",
};

/** A status badge; the label is translated when a `status.<code>` string exists. */
export function statusBadge(status) {
  const code = String(status ?? "");
  const key = `status.${code.replace(/ /g, "_")}`;
  const label = t(key) === key ? code : t(key);
  return badge(STATUS_KIND[code] || "muted", label);
}

/**
 * A table from rows and column definitions:
 * {key, label, num?: digits, render?: (row) => Node|string, class?}
 */
export function dataTable(columns, rows, opts = {}) {
  const table = el("table", { "data-testid": opts.testid || null });
  if (opts.caption) table.append(el("caption", opts.caption));
  table.append(
    el(
      "thead",
      el(
        "tr",
        columns.map((c) => el(`th${c.num !== undefined ? ".num" : ""}`, { scope: "col" }, c.label))
      )
    )
  );
  const body = el("tbody");
  for (const row of rows) {
    const tr = el("tr", { class: opts.rowClass ? opts.rowClass(row) : null, "data-testid": opts.rowTestid || null });
    for (const c of columns) {
      let v = c.render ? c.render(row) : row[c.key];
      if (!c.render && c.num !== undefined) v = num(v, c.num);
      tr.append(el(`td${c.num !== undefined ? ".num" : ""}`, v ?? ""));
    }
    body.append(tr);
  }
  table.append(body);
  if (!rows.length) {
    body.append(el("tr", el("td.empty", { colspan: columns.length }, opts.empty || t("app.empty"))));
  }
  return el(`div.table-wrap${opts.tall ? ".tall" : ""}`, table);
}

export function kpi(label, value, kind, testid, sub) {
  return el(
    `div.kpi${kind ? "." + kind : ""}`,
    { "data-testid": testid || null },
    el("div.label", label),
    el("div.value", value),
    sub ? el("div.sub", sub) : null
  );
}

let toastTimer;
export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("show"), 4000);
}

/** A stacked bar: parts [{value, class}] over `total`, with an accessible label. */
export function bar(parts, total, label) {
  const b = el("div.bar", { role: "img", "aria-label": label });
  for (const p of parts) {
    const pct = total > 0 ? Math.max(0, Math.min(100, (100 * p.value) / total)) : 0;
    b.append(el("span", { class: p.class, style: `width:${pct.toFixed(1)}%` }));
  }
  return b;
}
