// Stock by node and item, with expiry warnings.

import { api, ref, tableRows } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox, statusBadge, form, formCard, options, ltr } from "../ui.js";

const WARN_DAYS = 90;

/** Groups lot rows (GET /api/stock) into the stock-position shape: units by state, each lot counted once. */
function positionFromLots(lots, items) {
  const groups = new Map();
  const column = { available: "available", quarantine: "quarantined", "in transit": "in_transit", loaded: "loaded" };
  for (const r of lots) {
    const k = `${r.node}\u0000${r.item}`;
    let g = groups.get(k);
    if (!g) {
      g = { node: r.node, item: r.item, available: 0, quarantined: 0, in_transit: 0, loaded: 0, total: 0, lots: 0, lotIds: new Set(), weight_kg: 0, volume_m3: 0, first_expiry: null };
      groups.set(k, g);
    }
    const q = Number(r.quantity) || 0;
    g[column[r.state] || "available"] += q;
    g.total += q;
    g.lotIds.add(r.lot_id);
    g.lots = g.lotIds.size;
    const item = items.get(r.item);
    if (r.weight_kg !== undefined) {
      g.weight_kg += Number(r.weight_kg) || 0;
      g.volume_m3 += Number(r.volume_m3) || 0;
    } else if (item) {
      g.weight_kg += q * (item.unit_weight_kg || 0);
      g.volume_m3 += q * (item.unit_volume_m3 || 0);
    }
    if (r.expiry && (!g.first_expiry || r.expiry < g.first_expiry)) g.first_expiry = r.expiry;
  }
  return [...groups.values()].sort((a, b) => (a.node + a.item).localeCompare(b.node + b.item));
}

export async function renderStock(root, ctx) {
  root.append(el("h1", t("stock.title")), el("p.lead", t(ctx.user.role === "donor" ? "stock.lead_donor" : "stock.lead")), loading());
  const [itemsList, nodesList] = await Promise.all([ref("/items"), ref("/nodes")]);
  const items = new Map(itemsList.map((i) => [i.code, i]));
  const nodes = new Map(nodesList.map((n) => [n.code, n]));
  const hub = ctx.user.role !== "donor";
  const staff = ctx.user.role === "admin" || ctx.user.role === "operator";

  // A donor may read only their own lots (GET /api/stock); the hub reads the position.
  const [lots, transfers, departures] = await Promise.all([
    hub ? [] : api.get("/stock"),
    hub ? api.get("/transfers") : [],
    hub ? api.get("/departures") : [],
  ]);
  const rows = hub ? tableRows(await api.get("/stock/position")) : positionFromLots(lots, items);
  let alerts = [];
  let alertsError = null;
  try {
    alerts = await api.get(`/stock/expiry?days=${WARN_DAYS}`);
  } catch (err) {
    if (err.status !== 403) alertsError = err;
  }
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();

  // Expiry states come from the server (it knows the hub's date).
  const alertState = new Map();
  for (const a of alerts) {
    const k = `${a.node}\u0000${a.item}`;
    if (a.state === "expired" || !alertState.has(k)) alertState.set(k, a.state);
  }
  const expiryState = (r) => alertState.get(`${r.node}\u0000${r.item}`) || null;

  // Key figures per node.
  const kpis = el("div.kpis", { "data-testid": "stock-kpis" });
  // Items come in different units (kits, cartons, litres): a node's figure is its weight, not a sum of units.
  for (const [code, node] of nodes) {
    const mine = rows.filter((r) => r.node === code);
    const kg = mine.reduce((s, r) => s + (Number(r.weight_kg) || 0), 0);
    const lotsHere = mine.reduce((s, r) => s + (Number(r.lots) || 0), 0);
    kpis.append(kpi(node.name || code, `${num(kg / 1000, 1)} t`, null, `kpi-node-${code}`, t("stock.lots_items", { lots: num(lotsHere), items: num(mine.length) })));
  }
  if (hub) {
    // Stock between the sites, and stock loaded on departures that have not left, is still the hub's.
    const moving = transfers.filter((x) => !x.arrived_on);
    const onBoard = departures.filter((d) => d.status === "open" || d.status === "loaded");
    kpis.append(
      kpi(t("stock.between_sites"), num(moving.length), moving.length ? "warn" : null, "kpi-between-sites", t("stock.units_in", { units: num(moving.reduce((s, x) => s + (x.lines || []).reduce((a, l) => a + l.quantity, 0), 0)) })),
      kpi(t("stock.loaded_waiting"), `${num(onBoard.reduce((s, d) => s + (Number(d.loaded_kg) || 0), 0) / 1000, 1)} t`, null, "kpi-loaded-waiting", t("stock.on_departures", { n: num(onBoard.filter((d) => d.loaded_units > 0).length) }))
    );
  }
  const expired = alerts.filter((a) => a.state === "expired");
  const expiring = alerts.filter((a) => a.state !== "expired");
  kpis.append(
    kpi(t("stock.expiring_lots", { days: WARN_DAYS }), num(expiring.length), expiring.length ? "warn" : null, "kpi-expiring"),
    kpi(t("stock.expired_lots"), num(expired.length), expired.length ? "bad" : null, "kpi-expired"),
    kpi(t("stock.quarantined"), num(rows.reduce((s, r) => s + (Number(r.quarantined) || 0), 0)))
  );
  root.append(kpis);
  if (ctx.user.role === "admin" || ctx.user.role === "auditor") {
    // The ledger check: every balance recomputed from the hash-chained journal.
    api
      .get("/verify")
      .then((v) => {
        if (!ctx.isCurrent()) return;
        kpis.append(
          v.ok
            ? kpi(t("stock.ledger"), t("stock.ledger_ok"), null, "kpi-verify", t("stock.ledger_entries", { entries: num(v.entries) }))
            : kpi(t("stock.ledger"), t("stock.ledger_bad"), "bad", "kpi-verify", t("stock.ledger_bad_entry", { entry: v.first_bad_entry ?? "?" }))
        );
      })
      .catch(() => {});
  }

  // Filters.
  const nodeSelect = el(
    "select#stock-node",
    el("option", { value: "" }, t("stock.all_nodes")),
    [...nodes.values()].map((n) => el("option", { value: n.code }, n.name || n.code))
  );
  const itemInput = el("input#stock-item", { type: "search", placeholder: t("stock.item_placeholder") });
  const onlyWarn = el("input#stock-warn", { type: "checkbox" });
  const tableHolder = el("div");
  const columns = [
    { key: "node", label: t("col.node"), render: (r) => nodes.get(r.node)?.name || r.node },
    { key: "item", label: t("col.item"), render: (r) => el("span", { title: items.get(r.item)?.name || "" }, el("code", r.item)) },
    { key: "name", label: t("col.description"), render: (r) => items.get(r.item)?.name || "" },
    { key: "available", label: t("col.available"), num: 0 },
    { key: "quarantined", label: t("col.quarantined"), num: 0 },
    { key: "in_transit", label: t("col.in_transit"), num: 0 },
    { key: "loaded", label: t("col.loaded"), num: 0 },
    { key: "lots", label: t("col.lots"), num: 0 },
    { key: "weight_kg", label: t("col.weight_kg"), num: 1 },
    { key: "volume_m3", label: t("col.volume_m3"), num: 2 },
    {
      key: "first_expiry",
      label: t("col.first_expiry"),
      render: (r) => {
        const s = expiryState(r);
        return el("span", ltr(r.first_expiry), s ? [" ", statusBadge(s)] : null);
      },
    },
  ];
  const draw = () => {
    const q = itemInput.value.trim().toLowerCase();
    const shown = rows.filter(
      (r) =>
        (!nodeSelect.value || r.node === nodeSelect.value) &&
        (!q || r.item.toLowerCase().includes(q) || (items.get(r.item)?.name || "").toLowerCase().includes(q)) &&
        (!onlyWarn.checked || expiryState(r))
    );
    tableHolder.replaceChildren(
      dataTable(columns, shown, {
        caption: t("stock.table_caption", { shown: shown.length, total: rows.length }),
        testid: "stock-table",
        rowTestid: "stock-row",
        rowClass: (r) => {
          const s = expiryState(r);
          return s ? `row-${s}` : null;
        },
      })
    );
  };
  nodeSelect.addEventListener("change", draw);
  itemInput.addEventListener("input", draw);
  onlyWarn.addEventListener("change", draw);

  const alertList = el("div.card", { "data-testid": "expiry-warnings" }, el("h2", t("stock.expiry_title", { days: WARN_DAYS })));
  if (alertsError) alertList.append(errorBox(alertsError));
  alertList.append(
    dataTable(
      [
        { key: "expiry", label: t("col.expiry"), render: (a) => ltr(a.expiry) },
        { key: "state", label: t("col.state"), render: (a) => statusBadge(a.state) },
        { key: "node", label: t("col.node"), render: (a) => nodes.get(a.node)?.name || a.node },
        { key: "item", label: t("col.item"), render: (a) => el("code", a.item) },
        { key: "lot_id", label: t("col.lot") },
        { key: "quantity", label: t("col.quantity"), num: 0 },
      ],
      [...alerts].sort((a, b) => String(a.expiry).localeCompare(String(b.expiry))),
      { tall: true, empty: t("stock.no_expiry") }
    )
  );

  root.append(
    el(
      "div.card",
      el("h2", t("stock.by_node_item")),
      el(
        "div.toolbar",
        el("div.field", el("label", { for: "stock-node" }, t("col.node")), nodeSelect),
        el("div.field", el("label", { for: "stock-item" }, t("stock.filter_item")), itemInput),
        el("div.field", el("label", { for: "stock-warn" }, t("stock.only_warnings")), onlyWarn)
      ),
      tableHolder
    ),
    alertList
  );
  if (staff) {
    // The lots are read when the form is opened (a long list the page does not need otherwise).
    const f = stockForm(nodesList, ctx);
    const card = formCard(t("stockop.title"), f);
    card.addEventListener("toggle", () => {
      if (card.open && !f.dataset.loaded) {
        f.dataset.loaded = "loading";
        api
          .get("/stock")
          .then((held) => {
            // Only stock at a node can be quarantined, released, written off or counted.
            const all = held.filter((l) => l.state === "available" || l.state === "quarantine");
            f.input("lot_id").replaceChildren(...options(all, (l) => l.lot_id, (l) => `#${l.lot_id} · ${l.node} · ${l.item} · ${l.batch} · ${num(l.quantity)} · ${t(`status.${l.state.replace(/ /g, "_")}`)}`).map(([v, label]) => el("option", { value: v }, label)));
            f.dataset.loaded = "true";
          })
          .catch((err) => {
            delete f.dataset.loaded;
            f.showError(err);
          });
      }
    });
    root.append(card);
  }
  draw();
}

// Quarantine, release, write-off and count: one form, the operation chosen first.
const OPERATIONS = ["quarantine", "release", "write-off", "count"];
const LOSSES = ["damaged", "expired", "short-landed", "stolen", "count-adjustment", "short-delivered"];

function stockForm(nodesList, ctx) {
  const f = form({
    id: "stock-form",
    submit: t("stockop.submit"),
    fields: [
      { name: "operation", label: t("stockop.operation"), type: "select", options: OPERATIONS.map((o) => [o, t(`stockop.${o}`)]) },
      { name: "node", label: t("col.node"), type: "select", options: nodesList.map((n) => [n.code, n.name || n.code]) },
      {
        name: "lot_id",
        label: t("col.lot"),
        type: "select",
        options: [["", t("app.loading")]],
      },
      { name: "quantity", label: t("stockop.quantity"), type: "number", min: 0, step: 1 },
      { name: "loss", label: t("stockop.loss"), type: "select", options: LOSSES.map((l) => [l, t(`loss.${l}`)]) },
      { name: "from_quarantine", label: t("stockop.from_quarantine"), type: "checkbox" },
      { name: "reason", label: t("form.reason"), required: true },
    ],
    onSubmit: async (v, node) => {
      const lot = Number(v.lot_id) || 0;
      const quantity = v.quantity ?? 0;
      let body = { node: v.node, lot_id: lot, quantity, reason: v.reason };
      if (v.operation === "write-off") body = { ...body, loss: v.loss, from_quarantine: v.from_quarantine };
      if (v.operation === "count") body = { node: v.node, lines: [{ lot_id: lot, counted: quantity }], reason: v.reason };
      const path = { quarantine: "/stock/quarantine", release: "/stock/release", "write-off": "/stock/write-off", count: "/stock/count" }[v.operation];
      const r = await api.post(path, body, node.key);
      ctx.rerender();
      return t("stockop.done", { reference: r.reference });
    },
  });
  // Only the fields of the chosen operation are shown.
  const op = f.input("operation");
  const sync = () => {
    f.input("loss").closest(".field").hidden = op.value !== "write-off";
    f.input("from_quarantine").closest(".field").hidden = op.value !== "write-off";
    f.input("quantity").previousElementSibling.textContent = t(op.value === "count" ? "stockop.counted" : "stockop.quantity");
  };
  op.addEventListener("change", sync);
  sync();
  return f;
}
