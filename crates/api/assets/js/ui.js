// Small DOM helpers. Everything is built with elements and text nodes (never
// innerHTML with data), so server strings cannot inject markup.

import { t, num } from "./i18n.js";
import { newKey } from "./api.js";

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

/**
 * One problem of a 422 answer in the reader's language: its `code` through
 * the `problem.<code>` string (filled from `params`, `field` and `value`),
 * or the server's `rule` text when the code has no translation.
 */
export function problemText(p) {
  if (p && p.code) {
    const key = `problem.${p.code}`;
    // params: {name: value} or [[name, value], ...]
    const params = Array.isArray(p.params) ? Object.fromEntries(p.params) : p.params || {};
    const text = t(key, { field: p.field, value: p.value, ...params });
    if (text !== key) {
      // The figures the rule names (available, needed, ...) that the sentence does not already say.
      const figures = Object.entries(params)
        .filter(([k]) => !t(key).includes(`{${k}}`))
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
      return figures ? `${text} ${t("problem.figures", { figures })}` : text;
    }
  }
  return (p && (p.rule || p.message)) || "";
}

/** A translated error message: `error.<code>` when known, else the server's text. */
export function errorText(err) {
  // A refusal or invalid input: the problems below say what; the headline
  // (the server's English sentence) in the user's language.
  if (err && (err.code === "validation" || err.code === "refused")) {
    return t(`error.code.${err.code}`, { n: num((err.problems || []).length) });
  }
  if (err && err.code) {
    const key = `error.code.${err.code}`;
    const text = t(key);
    if (text !== key && err.code !== "validation" && err.code !== "refused") return text;
  }
  return (err && err.message) || String(err);
}

export function errorBox(err, testid = "error") {
  const problems = (err && err.problems) || [];
  return el(
    "div.alert.alert-error",
    { role: "alert", "data-testid": testid },
    el("strong", t("error.title")),
    " ",
    errorText(err),
    err && err.id ? el("span.muted", ` (${t("error.reference")}: ${err.id})`) : null,
    problems.length
      ? el(
          "ul",
          { "data-testid": "problems" },
          problems.map((p) =>
            el("li", { "data-field": p.field || "" }, el("code", p.field || ""), p.value !== undefined && p.value !== "" ? [" = ", el("bdi", String(p.value))] : null, " — ", problemText(p))
          )
        )
      : null
  );
}

/** A date or code kept in its own direction (dates stay "2025-03-31" inside Arabic text). */
export function ltr(text) {
  if (text === null || text === undefined || text === "") return "—";
  return el("bdi", { dir: "ltr" }, String(text));
}

/**
 * A form from field definitions:
 * {name, label, type: text|number|date|select|checkbox|textarea|hidden, options: [[value, label]],
 *  value, required, min, step, placeholder, hint, list}
 * `onSubmit(values, form)` returns a promise; a failure is shown above the
 * fields, and each problem whose `field` names a field is shown beside it.
 */
export function form(spec) {
  const { id, fields, submit, onSubmit, className } = spec;
  const message = el("div.form-message", { "aria-live": "polite" });
  const inputs = new Map();
  const errors = new Map();
  const rows = fields.map((f) => {
    const inputId = `${id}-${f.name}`;
    let input;
    if (f.type === "select") {
      input = el(
        `select#${inputId}`,
        { name: f.name, required: f.required || null },
        (f.options || []).map(([v, label]) => el("option", { value: v }, label ?? v))
      );
      if (f.value !== undefined) input.value = f.value;
    } else if (f.type === "textarea") {
      input = el(`textarea#${inputId}`, { name: f.name, rows: f.rows || 6, placeholder: f.placeholder || null, spellcheck: "false" });
      if (f.value !== undefined) input.value = f.value;
    } else {
      input = el(`input#${inputId}`, {
        name: f.name,
        type: f.type || "text",
        value: f.type === "checkbox" ? null : f.value ?? null,
        checked: f.type === "checkbox" && f.value ? true : null,
        required: f.required || null,
        min: f.min ?? null,
        max: f.max ?? null,
        step: f.step ?? null,
        placeholder: f.placeholder || null,
        inputmode: f.type === "number" ? "decimal" : f.inputmode || null,
        autocomplete: "off",
        list: f.list || null,
        dir: f.type === "date" || f.ltr ? "ltr" : null,
      });
    }
    input.dataset.testid = `${id}-${f.name}`;
    inputs.set(f.name, input);
    const err = el("span.field-error", { "data-testid": `${id}-${f.name}-error` });
    errors.set(f.name, err);
    if (f.type === "hidden") return input;
    return el(
      `div.field${f.type === "checkbox" ? ".field-check" : ""}${f.wide ? ".field-wide" : ""}`,
      el("label", { for: inputId }, f.label),
      input,
      f.hint ? el("span.hint", f.hint) : null,
      err
    );
  });
  const button = el("button.btn", { type: "submit", "data-testid": `${id}-submit` }, submit || t("form.submit"));
  const node = el(`form.form${className ? "." + className : ""}`, { id, "data-testid": id, novalidate: true }, message, el("div.form-fields", rows), spec.extra || null, el("div.form-actions", button));
  node.values = () => {
    const v = {};
    for (const [name, input] of inputs) {
      const f = fields.find((x) => x.name === name);
      if (f.type === "checkbox") v[name] = input.checked;
      else if (f.type === "number") v[name] = input.value === "" ? null : Number(input.value);
      else v[name] = input.value.trim();
    }
    return v;
  };
  node.input = (name) => inputs.get(name);
  // One idempotency key per operation until it succeeds: a retry after a
  // lost answer cannot apply it twice.
  node.key = newKey();
  node.showError = (err) => {
    for (const e of errors.values()) e.textContent = "";
    for (const input of inputs.values()) input.removeAttribute("aria-invalid");
    for (const p of (err && err.problems) || []) {
      const name = String(p.field || "").replace(/\[.*$/, "");
      if (errors.has(name) && !String(p.field).includes("[")) {
        errors.get(name).textContent = problemText(p);
        inputs.get(name).setAttribute("aria-invalid", "true");
      }
    }
    message.replaceChildren(errorBox(err));
  };
  node.clear = () => {
    for (const e of errors.values()) e.textContent = "";
    message.replaceChildren();
  };
  node.addEventListener("submit", async (e) => {
    e.preventDefault();
    node.clear();
    button.disabled = true;
    try {
      const done = await onSubmit(node.values(), node);
      node.key = newKey();
      if (done !== false) message.replaceChildren(el("p.alert.alert-ok", { role: "status", "data-testid": `${id}-done` }, typeof done === "string" ? done : t("form.done")));
    } catch (err) {
      // A refusal is final for this key; a lost answer (no status) keeps it for the retry.
      if (err && err.status) node.key = newKey();
      node.showError(err);
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

/** A card holding a form that opens on demand (keeps pages short on a phone). */
export function formCard(title, formNode, open = false) {
  return el("details.card.form-card", { open: open || null, "data-testid": `${formNode.id}-card` }, el("summary", el("h2", title)), formNode);
}

/** Options for a select from a list, with an empty first choice. */
export function options(list, value, label, empty = "") {
  return [["", empty], ...list.map((x) => [value(x), label(x)])];
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
      // data-label: the column's name, shown beside the value when a narrow screen lays rows out as cards.
      tr.append(el(`td${c.num !== undefined ? ".num" : ""}`, { "data-label": typeof c.label === "string" ? c.label : null }, v ?? ""));
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

// The vendored libraries (d3, topojson, uPlot) are loaded only by the views
// that draw with them, so the first page of most users does not carry them.
const scripts = new Map();
/** Loads classic scripts under assets/vendor/ once, in order. */
export function loadVendor(...paths) {
  return paths.reduce(
    (prev, path) =>
      prev.then(() => {
        if (!scripts.has(path)) {
          scripts.set(
            path,
            new Promise((resolve, reject) => {
              const url = new URL(`../vendor/${path}`, import.meta.url).href;
              const node = path.endsWith(".css")
                ? Object.assign(document.createElement("link"), { rel: "stylesheet", href: url })
                : Object.assign(document.createElement("script"), { src: url });
              node.onload = () => resolve();
              node.onerror = () => {
                scripts.delete(path);
                reject(new Error(`${path} did not load`));
              };
              document.head.append(node);
            })
          );
        }
        return scripts.get(path);
      }),
    Promise.resolve()
  );
}

/** The URL of a vendored data file (under the build's path). */
export function vendorUrl(path) {
  return new URL(`../vendor/${path}`, import.meta.url).href;
}
