// Transfers between the port and the airfield: the list (with what a plan
// dispatched), dispatching one and recording its arrival.

import { api, ref, hubToday } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, loading, statusBadge, form, formCard, options, ltr, errorBox } from "../ui.js";

const STAFF = new Set(["admin", "operator"]);

export async function renderTransfers(root, ctx) {
  root.append(el("h1", t("transfers.title")), el("p.lead", t("transfers.lead")), loading());
  const staff = STAFF.has(ctx.user.role);
  const [transfers, nodes, stock] = await Promise.all([api.get("/transfers"), ref("/nodes"), staff ? api.get("/stock") : []]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  const waiting = transfers.filter((x) => !x.arrived_on);
  if (waiting.some((x) => x.code.startsWith("PLAN-"))) {
    root.append(el("p.alert.alert-info", { "data-testid": "waiting-road" }, t("transfers.waiting_road", { n: waiting.filter((x) => x.code.startsWith("PLAN-")).length })));
  }
  if (staff) {
    const today = await hubToday();
    const available = stock.filter((s) => s.state === "available");
    const f = form({
      id: "transfer-form",
      submit: t("transfers.dispatch"),
      fields: [
        { name: "code", label: t("transfers.code"), required: true, ltr: true },
        { name: "from_node", label: t("transfers.from"), type: "select", options: nodes.map((n) => [n.code, n.name || n.code]) },
        { name: "to_node", label: t("transfers.to"), type: "select", options: nodes.map((n) => [n.code, n.name || n.code]), value: nodes[1]?.code },
        { name: "vehicle", label: t("transfers.vehicle"), required: true },
        { name: "dispatched_on", label: t("transfers.dispatched_on"), type: "date", value: today },
        { name: "lot_id", label: t("col.lot"), type: "select", options: options(available, (s) => s.lot_id, (s) => `#${s.lot_id} · ${s.node} · ${s.item} · ${s.batch} · ${num(s.quantity)}`) },
        { name: "quantity", label: t("col.quantity"), type: "number", min: 1, step: 1 },
      ],
      onSubmit: async (v, node) => {
        await api.post(
          "/transfers",
          { code: v.code, from_node: v.from_node, to_node: v.to_node, vehicle: v.vehicle, dispatched_on: v.dispatched_on || null, lines: [{ lot_id: Number(v.lot_id) || 0, quantity: v.quantity ?? 0 }] },
          node.key
        );
        ctx.rerender();
        return false;
      },
    });
    root.append(formCard(t("transfers.dispatch"), f));
  }
  const message = el("div", { "aria-live": "polite" });
  root.append(message);
  const sorted = [...transfers].sort((a, b) => Number(!!a.arrived_on) - Number(!!b.arrived_on) || String(b.dispatched_on).localeCompare(String(a.dispatched_on)));
  root.append(
    el(
      "div.card",
      dataTable(
        [
          { key: "code", label: t("transfers.code"), render: (x) => el("code", x.code) },
          { key: "route", label: t("transfers.route"), render: (x) => `${x.from_node} → ${x.to_node}` },
          { key: "vehicle", label: t("transfers.vehicle") },
          { key: "dispatched_on", label: t("transfers.dispatched_on"), render: (x) => ltr(x.dispatched_on) },
          { key: "arrived_on", label: t("transfers.arrived_on"), render: (x) => ltr(x.arrived_on) },
          { key: "units", label: t("unit.units"), num: 0, render: (x) => num((x.lines || []).reduce((s, l) => s + l.quantity, 0)) },
          {
            key: "status",
            label: t("col.status"),
            render: (x) => {
              if (x.arrived_on || !staff) return statusBadge(x.arrived_on ? "arrived" : "in transit");
              const b = el("button.btn.btn-secondary", { type: "button", "data-testid": "transfer-arrive", "data-code": x.code }, t("transfers.arrive"));
              b.addEventListener("click", async () => {
                b.disabled = true;
                try {
                  await api.post(`/transfers/${encodeURIComponent(x.code)}/arrive`, {});
                  ctx.rerender();
                } catch (err) {
                  b.disabled = false;
                  message.replaceChildren(errorBox(err));
                }
              });
              return el("span", statusBadge("in transit"), " ", b);
            },
          },
        ],
        sorted,
        { testid: "transfers-table", rowTestid: "transfer-row", cards: true }
      )
    )
  );
}
