// Departures: the list, scheduling one, and a departure's page (loading
// list, load, unload, depart, deliver with a proof of delivery, documents).

import { api, ref, viewParams, hubToday, addDays } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, loading, statusBadge, form, formCard, options, ltr } from "../ui.js";
import { printLinks } from "./documents.js";

const STAFF = new Set(["admin", "operator"]);

export async function renderDepartures(root, ctx) {
  const code = viewParams().get("code");
  if (code) return renderDeparture(root, ctx, code);
  root.append(el("h1", t("departures.title")), el("p.lead", t("departures.lead")), loading());
  const [departures, destinations, nodes] = await Promise.all([api.get("/departures"), ref("/destinations"), ref("/nodes")]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  const names = new Map(destinations.map((d) => [d.locode, d.name]));
  if (STAFF.has(ctx.user.role)) {
    const today = await hubToday();
    const f = form({
      id: "departure-form",
      submit: t("departures.schedule"),
      fields: [
        { name: "code", label: t("col.departure"), required: true, ltr: true },
        { name: "node", label: t("col.node"), type: "select", options: nodes.map((n) => [n.code, n.name || n.code]) },
        { name: "destination", label: t("col.destination"), type: "select", options: options(destinations, (d) => d.locode, (d) => `${d.name} (${d.locode})`) },
        { name: "mode", label: t("col.mode"), type: "select", options: [["air", t("mode.air")], ["sea", t("mode.sea")], ["road", t("mode.road")]] },
        { name: "service", label: t("departures.service"), type: "select", options: [["scheduled", t("departures.scheduled")], ["charter", t("departures.charter")]] },
        { name: "vehicle", label: t("col.vehicle"), required: true },
        { name: "departs", label: t("col.departs"), type: "date", value: addDays(today, 2) },
        { name: "arrives", label: t("col.arrives"), type: "date", value: addDays(today, 3) },
        { name: "payload_kg", label: t("departures.payload_kg"), type: "number", min: 0, step: "any" },
        { name: "volume_m3", label: t("departures.volume_m3"), type: "number", min: 0, step: "any" },
        { name: "cold_volume_m3", label: t("plan.cold_m3"), type: "number", min: 0, step: "any", value: 0 },
        { name: "fixed_cost_usd", label: t("departures.fixed_cost"), type: "number", min: 0, step: "any", value: 0 },
        { name: "cost_per_kg_usd", label: t("departures.cost_per_kg"), type: "number", min: 0, step: "any", value: 0 },
        { name: "dangerous_goods", label: t("departures.dangerous_goods"), type: "checkbox" },
      ],
      onSubmit: async (v, node) => {
        const body = { ...v };
        for (const k of ["payload_kg", "volume_m3", "cold_volume_m3", "fixed_cost_usd", "cost_per_kg_usd"]) body[k] = body[k] ?? 0;
        await api.post("/departures", body, node.key);
        location.hash = `#/departures?code=${encodeURIComponent(v.code)}`;
        return false;
      },
    });
    root.append(formCard(t("departures.schedule"), f));
  }
  const sorted = [...departures].sort((a, b) => String(a.departs).localeCompare(String(b.departs)));
  root.append(
    el(
      "div.card",
      dataTable(
        [
          { key: "code", label: t("col.departure"), render: (d) => el("a", { href: `#/departures?code=${encodeURIComponent(d.code)}`, "data-testid": "departure-link" }, el("code", d.code)) },
          { key: "departs", label: t("col.departs"), render: (d) => ltr(d.departs) },
          { key: "arrives", label: t("col.arrives"), render: (d) => ltr(d.arrives) },
          { key: "destination", label: t("col.destination"), render: (d) => `${names.get(d.destination) || d.destination}` },
          { key: "mode", label: t("col.mode"), render: (d) => t(`mode.${d.mode}`) },
          { key: "loaded_kg", label: t("departures.loaded_kg"), render: (d) => `${num(d.loaded_kg, 0)} / ${num(d.payload_kg, 0)}` },
          { key: "status", label: t("col.status"), render: (d) => statusBadge(d.status) },
        ],
        sorted,
        { testid: "departures-table", rowTestid: "departure-row", cards: true }
      )
    )
  );
}

function loadForm(dep, stock, requests, ctx) {
  const here = stock.filter((s) => s.node === dep.node && s.state === "available");
  const forCountry = requests.filter((r) => r.destination === dep.destination && r.status !== "cancelled" && !r.met);
  return form({
    id: "load-form",
    submit: t("departures.load"),
    fields: [
      {
        name: "lot_id",
        label: t("col.lot"),
        type: "select",
        options: options(here, (s) => s.lot_id, (s) => `#${s.lot_id} · ${s.item} · ${s.batch} · ${num(s.quantity)}`),
      },
      { name: "quantity", label: t("col.quantity"), type: "number", min: 1, step: 1 },
      {
        name: "request",
        label: t("col.request"),
        type: "select",
        options: options(forCountry, (r) => r.code, (r) => `${r.code} · ${r.item} · ${num(r.quantity - r.delivered)}`, t("form.none")),
      },
    ],
    onSubmit: async (v, node) => {
      await api.post(`/departures/${encodeURIComponent(dep.code)}/load`, { lines: [{ lot_id: Number(v.lot_id) || 0, quantity: v.quantity ?? 0, request: v.request || null }] }, node.key);
      ctx.rerender();
      return false;
    },
  });
}

function deliverForm(dep, lines, ctx) {
  const inputs = [];
  const table = el(
    "div.receive-lines",
    { "data-testid": "deliver-lines" },
    lines
      .filter((l) => !l.unloaded)
      .map((l) => {
        const input = el("input", { type: "number", min: 0, value: l.quantity, inputmode: "numeric", "data-testid": "deliver-received", "data-line": l.line, "aria-label": t("deliver.received_of", { line: l.line }) });
        inputs.push({ input, line: l });
        return el("div.receive-line", el("div.receive-what", el("strong", `${l.line}. `, el("code", l.item)), el("div.muted", t("deliver.loaded", { n: num(l.quantity) }), l.request ? [" · ", el("code", l.request)] : null)), el("label", t("field.received"), input));
      })
  );
  return form({
    id: "deliver-form",
    submit: t("deliver.submit"),
    fields: [
      { name: "received_by", label: t("deliver.received_by"), required: true },
      { name: "received_on", label: t("receive.received_on"), type: "date" },
      { name: "note", label: t("deliver.note") },
    ],
    extra: table,
    onSubmit: async (v, node) => {
      const body = { received_by: v.received_by, note: v.note, lines: inputs.map(({ input, line }) => ({ line: line.line, received: input.value === "" ? 0 : Number(input.value) })) };
      if (v.received_on) body.received_on = v.received_on;
      await api.post(`/departures/${encodeURIComponent(dep.code)}/deliver`, body, node.key);
      ctx.rerender();
      return false;
    },
  });
}

async function renderDeparture(root, ctx, code) {
  root.append(el("p", el("a", { href: "#/departures" }, t("departures.back"))), el("h1", t("departures.departure", { code })), loading());
  const staff = STAFF.has(ctx.user.role);
  const detail = await api.get(`/departures/${encodeURIComponent(code)}`);
  const dep = detail.departure;
  // More can be loaded until the departure leaves (after a plan loaded part of it, too).
  const loadable = staff && (dep.status === "open" || dep.status === "loaded");
  const [stock, requests, pod, destinations, nodes] = await Promise.all([
    loadable ? api.get("/stock") : [],
    loadable ? api.get("/requests") : [],
    dep.status === "delivered" ? api.get(`/departures/${encodeURIComponent(code)}/pod`) : null,
    ref("/destinations").catch(() => []),
    ref("/nodes").catch(() => []),
  ]);
  // The node and the destination by name, in the user's language, with their codes.
  const nodeName = nodes.find((n) => n.code === dep.node)?.name;
  const destName = destinations.find((d) => d.locode === dep.destination)?.name;
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  root.append(
    el(
      "dl.facts",
      { "data-testid": "departure-facts" },
      el("dt", t("col.status")), el("dd", { "data-testid": "departure-status", "data-status": dep.status }, statusBadge(dep.status)),
      el("dt", t("col.node")), el("dd", nodeName ? [nodeName, " ", el("code.muted", dep.node)] : dep.node),
      el("dt", t("col.destination")), el("dd", destName ? [destName, " ", ltr(dep.destination)] : ltr(dep.destination)),
      el("dt", t("col.mode")), el("dd", t(`mode.${dep.mode}`)),
      el("dt", t("col.vehicle")), el("dd", dep.vehicle),
      el("dt", t("col.departs")), el("dd", ltr(dep.departs)),
      el("dt", t("col.arrives")), el("dd", ltr(dep.arrives)),
      el("dt", t("departures.departed_on")), el("dd", ltr(dep.departed_on)),
      el("dt", t("departures.loaded_kg")), el("dd", `${num(dep.loaded_kg, 0)} / ${num(dep.payload_kg, 0)}`)
    )
  );
  const lines = detail.lines || [];
  if (lines.some((l) => !l.unloaded)) root.append(el("div.card", el("h2", t("departures.documents")), printLinks("waybill", code, "loading-list", code, ...(dep.status === "delivered" ? ["pod", code] : []))));
  if (loadable) root.append(formCard(t("departures.load"), loadForm(dep, stock, requests, ctx), true));
  root.append(
    el(
      "div.card",
      el("h2", t("departures.loading_list")),
      dataTable(
        [
          { key: "line", label: "#", num: 0 },
          { key: "lot_id", label: t("col.lot"), num: 0 },
          { key: "item", label: t("col.item"), render: (l) => el("code", l.item) },
          { key: "donor", label: t("col.donor"), render: (l) => el("code", l.donor) },
          { key: "quantity", label: t("col.quantity"), num: 0 },
          { key: "request", label: t("col.request"), render: (l) => (l.request ? el("code", l.request) : "—") },
          { key: "unloaded", label: t("col.status"), render: (l) => (l.unloaded ? statusBadge("unloaded") : statusBadge("loaded")) },
        ],
        lines,
        { testid: "loading-list", rowTestid: "loading-row", cards: true }
      )
    )
  );
  if (staff && (dep.status === "open" || dep.status === "loaded") && lines.some((l) => !l.unloaded)) {
    const depart = form({
      id: "depart-form",
      submit: t("departures.depart"),
      fields: [],
      onSubmit: async (v, node) => {
        await api.post(`/departures/${encodeURIComponent(code)}/depart`, {}, node.key);
        ctx.rerender();
        return false;
      },
    });
    const unload = form({
      id: "unload-form",
      submit: t("departures.unload"),
      fields: [{ name: "reason", label: t("form.reason"), required: true }],
      onSubmit: async (v, node) => {
        await api.post(`/departures/${encodeURIComponent(code)}/unload`, v, node.key);
        ctx.rerender();
        return false;
      },
    });
    root.append(el("div.card", el("h2", t("departures.depart_title")), el("p.muted", t("departures.depart_help")), depart), formCard(t("departures.unload"), unload));
  }
  if (staff && dep.status === "departed") root.append(formCard(t("deliver.title"), deliverForm(dep, lines, ctx), true));
  if (pod) {
    root.append(
      el(
        "div.card",
        { "data-testid": "pod" },
        el("h2", t("pod.title")),
        el("p", t("pod.received", { by: pod.received_by }), " ", ltr(pod.received_on), pod.note ? [" · ", pod.note] : null),
        dataTable(
          [
            { key: "line", label: "#", num: 0 },
            { key: "item", label: t("col.item"), render: (l) => el("code", l.item) },
            { key: "batch", label: t("col.batch"), render: (l) => ltr(l.batch) },
            { key: "loaded", label: t("col.loaded"), num: 0 },
            { key: "received", label: t("field.received"), num: 0 },
            { key: "short", label: t("grn.short"), num: 0 },
            { key: "request", label: t("col.request"), render: (l) => (l.request ? el("code", l.request) : "—") },
          ],
          pod.lines || [],
          { testid: "pod-table", rowTestid: "pod-row", cards: true }
        )
      )
    );
  }
}
