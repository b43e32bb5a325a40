// Inbound legs: the list, registering a leg, a leg's manifest (checked in
// the browser line by line, then imported all or nothing), receiving it line
// by line (with a barcode field for a keyboard-wedge scanner) and its
// goods-received note.

import { api, ref, viewParams, hubToday } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, loading, statusBadge, form, formCard, options, ltr, errorBox, problemText } from "../ui.js";
import { parseGs1 } from "../gs1.js";
import { printLinks } from "./documents.js";

const STAFF = new Set(["admin", "operator"]);

export async function renderLegs(root, ctx) {
  const code = viewParams().get("code");
  if (code) return renderLeg(root, ctx, code);
  root.append(el("h1", t("legs.title")), el("p.lead", t("legs.lead")), loading());
  const [legs, nodes, orgs] = await Promise.all([api.get("/legs"), ref("/nodes"), ctx.user.role === "donor" ? [] : ref("/organisations")]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  if (STAFF.has(ctx.user.role)) {
    const today = await hubToday();
    const f = form({
      id: "leg-form",
      submit: t("legs.register"),
      fields: [
        { name: "code", label: t("col.leg"), required: true, ltr: true },
        { name: "mode", label: t("col.mode"), type: "select", options: [["sea", t("mode.sea")], ["air", t("mode.air")], ["road", t("mode.road")]] },
        { name: "origin", label: t("col.origin"), required: true, placeholder: "CNSHA", ltr: true },
        { name: "node", label: t("col.node"), type: "select", options: nodes.map((n) => [n.code, n.name || n.code]) },
        { name: "carrier", label: t("col.carrier"), required: true },
        { name: "reference", label: t("col.vehicle"), required: true },
        { name: "expected_arrival", label: t("col.expected_arrival"), type: "date", value: today },
        {
          name: "donor",
          label: t("col.donor"),
          type: "select",
          options: options(orgs.filter((o) => o.kind === "donor"), (o) => o.code, (o) => `${o.name} (${o.code})`, t("form.none")),
        },
      ],
      onSubmit: async (v) => {
        const r = await api.post("/legs", { ...v, donor: v.donor || null }, undefined);
        location.hash = `#/legs?code=${encodeURIComponent(r.code)}`;
        return t("legs.registered", { code: r.code });
      },
    });
    root.append(formCard(t("legs.register"), f));
  }
  root.append(
    el(
      "div.card",
      dataTable(
        [
          { key: "code", label: t("col.leg"), render: (l) => el("a", { href: `#/legs?code=${encodeURIComponent(l.code)}`, "data-testid": "leg-link" }, el("code", l.code)) },
          { key: "expected_arrival", label: t("col.expected_arrival"), render: (l) => ltr(l.expected_arrival) },
          { key: "mode", label: t("col.mode"), render: (l) => t(`mode.${l.mode}`) },
          { key: "node", label: t("col.node") },
          { key: "carrier", label: t("col.carrier") },
          { key: "units", label: t("col.manifested"), num: 0 },
          { key: "in_transit_units", label: t("col.in_transit"), num: 0 },
          { key: "status", label: t("col.status"), render: (l) => statusBadge(l.status) },
        ],
        [...legs].sort((a, b) => String(b.expected_arrival).localeCompare(String(a.expected_arrival))),
        { testid: "legs-table", rowTestid: "leg-row", cards: true }
      )
    )
  );
}

/** Splits one CSV line (quotes allowed). */
function csvCells(line) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === "," || c === ";" || c === "\t") {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

/**
 * A manifest in CSV (header row: item, quantity, batch, expiry, packs, donor,
 * earmark) checked line by line: {lines, problems: [{line, field, value, rule}]}.
 */
export function checkManifest(text, items) {
  const rows = text.split(/\r?\n/).map((l, i) => ({ no: i + 1, text: l })).filter((r) => r.text.trim() && !r.text.trim().startsWith("#"));
  const problems = [];
  const lines = [];
  if (!rows.length) {
    problems.push({ line: 0, field: "file", value: "", code: "manifest_empty", rule: "the manifest has no lines" });
    return { lines, problems };
  }
  const header = csvCells(rows[0].text).map((h) => h.toLowerCase());
  const col = (name) => header.indexOf(name);
  for (const need of ["item", "quantity", "batch"]) {
    if (col(need) < 0) problems.push({ line: rows[0].no, field: need, value: "", code: "manifest_column_missing", rule: `no column "${need}"` });
  }
  if (problems.length) return { lines, problems };
  for (const r of rows.slice(1)) {
    const c = csvCells(r.text);
    const get = (name) => (col(name) >= 0 ? c[col(name)] || "" : "");
    const line = { item: get("item"), quantity: Number(get("quantity")), batch: get("batch") };
    const bad = (field, value, code, rule) => problems.push({ line: r.no, field, value, code, rule });
    if (!items.has(line.item)) bad("item", line.item, "unknown_item", "no such item in the catalogue");
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) bad("quantity", get("quantity"), "not_positive", "must be a whole number above 0");
    if (!line.batch) bad("batch", "", "required", "must not be empty");
    const expiry = get("expiry");
    if (expiry) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(expiry) || Number.isNaN(Date.parse(expiry))) bad("expiry", expiry, "bad_date", "must be a date YYYY-MM-DD");
      else line.expiry = expiry;
    }
    const packs = get("packs");
    if (packs) {
      if (!/^\d+$/.test(packs) || Number(packs) <= 0) bad("packs", packs, "not_positive", "must be a whole number above 0");
      else line.packs = Number(packs);
    }
    if (get("donor")) line.donor = get("donor");
    line.earmark = get("earmark") ? get("earmark").split(/[ |/]+/).filter(Boolean) : [];
    line.source_line = r.no;
    lines.push(line);
  }
  if (!lines.length) problems.push({ line: rows[0].no, field: "file", value: "", code: "manifest_empty", rule: "the manifest has no lines" });
  return { lines, problems };
}

function problemList(problems, testid) {
  return el(
    "div.alert.alert-error",
    { role: "alert", "data-testid": testid },
    el("strong", t("manifest.problems", { n: problems.length })),
    el(
      "ul",
      problems.map((p) =>
        el("li", { "data-testid": "manifest-problem", "data-line": p.line }, t("manifest.line", { line: p.line }), " · ", el("code", p.field), p.value ? [" = ", el("bdi", String(p.value))] : null, " — ", problemText(p))
      )
    )
  );
}

function manifestCard(leg, items, ctx) {
  const text = el("textarea#manifest-text", {
    rows: 8,
    spellcheck: "false",
    dir: "ltr",
    "data-testid": "manifest-text",
    placeholder: "item,quantity,batch,expiry,packs\nWASH-HYG-KIT,500,HK-2025-01,2027-06-30,50",
  });
  const file = el("input#manifest-file", { type: "file", accept: ".csv,text/csv,text/plain", "data-testid": "manifest-file" });
  file.addEventListener("change", async () => {
    if (file.files[0]) text.value = await file.files[0].text();
  });
  const out = el("div", { "aria-live": "polite" });
  const check = el("button.btn.btn-secondary", { type: "button", "data-testid": "manifest-check" }, t("manifest.check"));
  const importBtn = el("button.btn", { type: "button", "data-testid": "manifest-import", disabled: true }, t("manifest.import"));
  let checked = null;
  text.addEventListener("input", () => {
    importBtn.disabled = true;
    checked = null;
  });
  check.addEventListener("click", () => {
    const r = checkManifest(text.value, items);
    if (r.problems.length) {
      out.replaceChildren(problemList(r.problems, "manifest-problems"));
      importBtn.disabled = true;
      checked = null;
    } else {
      const units = r.lines.reduce((s, l) => s + l.quantity, 0);
      out.replaceChildren(el("p.alert.alert-ok", { "data-testid": "manifest-ok" }, t("manifest.ok", { lines: r.lines.length, units: num(units) })));
      importBtn.disabled = false;
      checked = r.lines;
    }
  });
  importBtn.addEventListener("click", async () => {
    if (!checked) return;
    importBtn.disabled = true;
    try {
      const lines = checked.map(({ source_line, ...l }) => l);
      await api.post(`/legs/${encodeURIComponent(leg.code)}/manifest`, { lines });
      ctx.rerender();
    } catch (err) {
      // Server problems name lines[N]: show them against the file's line numbers.
      const problems = (err.problems || []).map((p) => {
        const m = /^lines\[(\d+)\]\.?(.*)$/.exec(p.field || "");
        return m ? { ...p, line: checked[Number(m[1])]?.source_line ?? Number(m[1]) + 2, field: m[2] || p.field } : { ...p, line: "—" };
      });
      out.replaceChildren(problems.length ? problemList(problems, "manifest-problems") : errorBox(err));
    }
  });
  return el(
    "div.card",
    { "data-testid": "manifest-card" },
    el("h2", t("manifest.title")),
    el("p.muted", t("manifest.help")),
    el("div.field", el("label", { for: "manifest-file" }, t("manifest.file")), file),
    el("div.field.field-wide", el("label", { for: "manifest-text" }, t("manifest.text")), text),
    el("div.form-actions", check, importBtn),
    out
  );
}

function receiveCard(leg, manifest, items, ctx) {
  const open = manifest.filter((l) => l.counted === null || l.counted === undefined);
  const rows = new Map();
  const scan = el("input#receive-scan", { type: "text", autocomplete: "off", dir: "ltr", "data-testid": "receive-scan", placeholder: "(01)…(10)…(17)…(37)…" });
  const scanMessage = el("div", { "aria-live": "polite", "data-testid": "receive-scan-message" });
  const applyScan = () => {
    const r = parseGs1(scan.value);
    if (r.errors.length) {
      scanMessage.replaceChildren(el("p.alert.alert-error", { "data-testid": "scan-error" }, t("receive.scan_unread"), " ", el("bdi", r.errors.join("; "))));
      return;
    }
    const match = open.find((l) => (r.batch ? l.batch === r.batch : true) && (r.expiry && l.expiry ? l.expiry === r.expiry : true) && (r.batch || r.expiry));
    if (!match) {
      scanMessage.replaceChildren(el("p.alert.alert-error", { "data-testid": "scan-error" }, t("receive.scan_no_line", { batch: r.batch || "—", expiry: r.expiry || "—" })));
      return;
    }
    const row = rows.get(match.line);
    // Each scan adds its count (37), or one unit when the label has none.
    row.counted.value = String((Number(row.counted.value) || 0) + (r.count ?? 1));
    row.counted.dispatchEvent(new Event("input"));
    scanMessage.replaceChildren(el("p.alert.alert-ok", { "data-testid": "scan-ok" }, t("receive.scan_filled", { line: match.line, counted: row.counted.value })));
    scan.value = "";
  };
  scan.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      applyScan();
    }
  });
  const table = el(
    "div.receive-lines",
    { "data-testid": "receive-lines" },
    open.map((l) => {
      const counted = el("input", { type: "number", min: 0, inputmode: "numeric", "data-testid": "receive-counted", "data-line": l.line, "aria-label": t("receive.counted_of", { line: l.line }) });
      const damaged = el("input", { type: "number", min: 0, inputmode: "numeric", value: "0", "data-testid": "receive-damaged", "data-line": l.line, "aria-label": t("receive.damaged_of", { line: l.line }) });
      const to = el("select", { "data-testid": "receive-damaged-to", "aria-label": t("receive.damaged_to") }, el("option", { value: "quarantine" }, t("receive.to_quarantine")), el("option", { value: "loss" }, t("receive.to_loss")));
      rows.set(l.line, { counted, damaged, to, line: l });
      return el(
        "div.receive-line",
        { "data-line": l.line },
        el("div.receive-what", el("strong", `${l.line}. `, el("code", l.item)), " ", items.get(l.item)?.name || "", el("div.muted", t("col.batch"), " ", ltr(l.batch), " · ", t("col.expiry"), " ", ltr(l.expiry), " · ", t("receive.manifested", { n: num(l.quantity) }))),
        el("label", t("field.counted"), counted),
        el("label", t("receive.damaged"), damaged),
        el("label", t("receive.damaged_to"), to)
      );
    })
  );
  const f = form({
    id: "receive-form",
    submit: t("receive.submit"),
    fields: [
      { name: "received_by", label: t("receive.received_by"), required: true, value: ctx.user.username },
      { name: "received_on", label: t("receive.received_on"), type: "date" },
      { name: "rest_as_manifested", label: t("receive.rest"), type: "checkbox" },
    ],
    extra: el("div", el("div.field.field-wide", el("label", { for: "receive-scan" }, t("receive.scan")), scan, el("span.hint", t("receive.scan_hint"))), scanMessage, table),
    onSubmit: async (v, node) => {
      const lines = [];
      for (const { counted, damaged, to, line } of rows.values()) {
        if (counted.value === "") continue;
        lines.push({ line: line.line, counted: Number(counted.value), damaged: Number(damaged.value) || 0, damaged_to: to.value });
      }
      const body = { received_by: v.received_by, lines, rest_as_manifested: v.rest_as_manifested };
      if (v.received_on) body.received_on = v.received_on;
      await api.post(`/legs/${encodeURIComponent(leg.code)}/receipt`, body, node.key);
      ctx.rerender();
      return false;
    },
  });
  return formCard(t("receive.title"), f, true);
}

function grnCard(grn) {
  return el(
    "div.card",
    { "data-testid": "grn" },
    el("h2", t("grn.title", { leg: grn.leg })),
    el("div.toolbar", printLinks("grn", grn.leg)),
    dataTable(
      [
        { key: "line", label: "#", num: 0 },
        { key: "item", label: t("col.item"), render: (l) => el("code", l.item) },
        { key: "batch", label: t("col.batch"), render: (l) => ltr(l.batch) },
        { key: "received_on", label: t("receive.received_on"), render: (l) => ltr(l.received_on) },
        { key: "manifest_quantity", label: t("col.manifested"), num: 0 },
        { key: "counted", label: t("field.counted"), num: 0 },
        { key: "good", label: t("grn.good"), num: 0 },
        { key: "damaged", label: t("receive.damaged"), num: 0 },
        { key: "short", label: t("grn.short"), num: 0 },
        { key: "over", label: t("grn.over"), num: 0 },
      ],
      grn.lines || [],
      { testid: "grn-table", rowTestid: "grn-row", cards: true }
    )
  );
}

async function renderLeg(root, ctx, code) {
  root.append(el("p", el("a", { href: "#/legs" }, t("legs.back"))), el("h1", t("legs.leg", { code })), loading());
  const [detail, itemsList, nodes] = await Promise.all([api.get(`/legs/${encodeURIComponent(code)}`), ref("/items"), ref("/nodes").catch(() => [])]);
  const items = new Map(itemsList.map((i) => [i.code, i]));
  const leg = detail.leg;
  let grn = null;
  if (leg.received_lines > 0) grn = await api.get(`/legs/${encodeURIComponent(code)}/grn`);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  root.append(
    el(
      "dl.facts",
      { "data-testid": "leg-facts" },
      el("dt", t("col.status")), el("dd", statusBadge(leg.status)),
      el("dt", t("col.mode")), el("dd", t(`mode.${leg.mode}`)),
      el("dt", t("col.origin")), el("dd", ltr(leg.origin)),
      el("dt", t("col.node")), el("dd", nodes.some((n) => n.code === leg.node) ? [nodes.find((n) => n.code === leg.node).name, " ", el("code.muted", leg.node)] : leg.node),
      el("dt", t("col.carrier")), el("dd", leg.carrier),
      el("dt", t("col.vehicle")), el("dd", leg.reference),
      el("dt", t("col.expected_arrival")), el("dd", ltr(leg.expected_arrival))
    )
  );
  const staff = STAFF.has(ctx.user.role);
  const manifest = detail.manifest || [];
  if (staff && !manifest.length) root.append(manifestCard(leg, items, ctx));
  if (manifest.length) {
    if (staff && manifest.some((l) => l.counted === null || l.counted === undefined)) root.append(receiveCard(leg, manifest, items, ctx));
    root.append(
      el(
        "div.card",
        el("h2", t("manifest.lines")),
        dataTable(
          [
            { key: "line", label: "#", num: 0 },
            { key: "item", label: t("col.item"), render: (l) => el("code", l.item) },
            { key: "donor", label: t("col.donor"), render: (l) => el("code", l.donor) },
            { key: "batch", label: t("col.batch"), render: (l) => ltr(l.batch) },
            { key: "expiry", label: t("col.expiry"), render: (l) => ltr(l.expiry) },
            { key: "quantity", label: t("col.quantity"), num: 0 },
            { key: "counted", label: t("field.counted"), num: 0 },
          ],
          manifest,
          { testid: "manifest-table", rowTestid: "manifest-row", cards: true }
        )
      )
    );
  }
  if (grn) root.append(grnCard(grn));
}
