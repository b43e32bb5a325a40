// Requests and their fulfilment, per destination.

import { api, ref, tableRows, hubToday, addDays } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, statusBadge, bar, form, formCard, options, ltr, errorBox, badge } from "../ui.js";

const CAN_FILE = new Set(["admin", "operator", "recipient"]);
// Who may mark a request must-ship (a manager's decision), and who sees the mark.
const CAN_MARK = new Set(["admin", "operator"]);
const SEES_MARK = new Set(["admin", "operator", "auditor", "recipient"]);

export async function renderRequests(root, ctx) {
  const country = ctx.user.role === "recipient" ? ctx.user.country : null;
  root.append(
    el("h1", country ? t("requests.title_country", { country }) : t("requests.title")),
    el("p.lead", t("requests.lead")),
    loading()
  );
  const [table, destinations, items, today, requestList] = await Promise.all([
    api.get("/reports/fulfilment"),
    ref("/destinations"),
    ref("/items"),
    hubToday(),
    SEES_MARK.has(ctx.user.role) ? api.get("/requests") : Promise.resolve([]),
  ]);
  const mustShip = new Map((requestList || []).map((r) => [r.code, Boolean(r.must_ship)]));
  if (!ctx.isCurrent()) return;
  if (CAN_FILE.has(ctx.user.role)) {
    const mine = destinations.filter((d) => !country || d.country === country);
    const f = form({
      id: "request-form",
      submit: t("requests.file"),
      fields: [
        { name: "code", label: t("col.request"), required: true, ltr: true },
        { name: "destination", label: t("col.destination"), type: "select", options: options(mine, (d) => d.locode, (d) => `${d.name} (${d.locode})`) },
        { name: "item", label: t("col.item"), type: "select", options: options(items, (i) => i.code, (i) => `${i.name} (${i.code})`) },
        { name: "quantity", label: t("col.quantity"), type: "number", min: 1, step: 1 },
        { name: "priority", label: t("col.priority"), type: "select", options: [1, 2, 3, 4, 5].map((p) => [String(p), t(`priority.${p}`)]), value: "2" },
        { name: "needed_by", label: t("col.needed_by"), type: "date", value: addDays(today, 14) },
        { name: "grace_days", label: t("requests.grace_days"), type: "number", min: 0, step: 1, value: 0 },
      ],
      onSubmit: async (v, node) => {
        await api.post("/requests", { ...v, quantity: v.quantity ?? 0, priority: Number(v.priority), grace_days: v.grace_days ?? 0 }, node.key);
        ctx.rerender();
        return false;
      },
    });
    root.append(formCard(t("requests.file"), f));
  }
  root.querySelector(".loading")?.remove();
  const rows = tableRows(table);
  const names = new Map(destinations.map((d) => [d.locode, d]));

  const per = new Map();
  for (const r of rows) {
    let g = per.get(r.destination);
    if (!g) {
      g = { destination: r.destination, requests: 0, requested: 0, loaded: 0, delivered: 0, outstanding: 0, open: 0 };
      per.set(r.destination, g);
    }
    if (r.status === "cancelled") continue;
    g.requests += 1;
    g.requested += Number(r.requested) || 0;
    g.loaded += Number(r.loaded) || 0;
    g.delivered += Number(r.delivered) || 0;
    g.outstanding += Number(r.outstanding) || 0;
    if ((Number(r.outstanding) || 0) > 0) g.open += 1;
  }
  const groups = [...per.values()].sort((a, b) => b.outstanding - a.outstanding || a.destination.localeCompare(b.destination));
  const total = groups.reduce(
    (s, g) => ({ requested: s.requested + g.requested, delivered: s.delivered + g.delivered, outstanding: s.outstanding + g.outstanding }),
    { requested: 0, delivered: 0, outstanding: 0 }
  );
  root.append(
    el(
      "div.kpis",
      kpi(t("requests.destinations"), num(groups.length)),
      kpi(t("requests.count"), num(rows.length)),
      kpi(t("col.requested"), num(total.requested)),
      kpi(t("col.delivered"), num(total.delivered)),
      kpi(t("requests.fill_rate"), total.requested ? `${num((100 * total.delivered) / total.requested, 1)} %` : "—"),
      kpi(t("col.outstanding"), num(total.outstanding), total.outstanding ? "warn" : null)
    )
  );

  const legend = el(
    "div.legend",
    el("span", el("i", { style: "background:#237a3b" }), t("col.delivered")),
    el("span", el("i", { style: "background:#6aa4d8" }), t("requests.on_the_way")),
    el("span", el("i", { style: "background:#e7ebef;border:1px solid #c0c7cf" }), t("col.outstanding"))
  );
  const destName = (code) => {
    const d = names.get(code);
    return d ? `${d.name} (${d.country || code.slice(0, 2)})` : code;
  };
  root.append(
    el(
      "div.card",
      el("h2", t("requests.per_destination")),
      legend,
      dataTable(
        [
          { key: "destination", label: t("col.destination"), render: (g) => el("span", destName(g.destination), " ", el("code.muted", g.destination)) },
          { key: "requests", label: t("requests.count"), num: 0 },
          { key: "requested", label: t("col.requested"), num: 0 },
          { key: "delivered", label: t("col.delivered"), num: 0 },
          { key: "outstanding", label: t("col.outstanding"), num: 0 },
          {
            key: "bar",
            label: t("requests.fulfilment"),
            render: (g) => {
              // "loaded" counts what is on departures not yet delivered: all of it is on the way.
              const onWay = Math.max(0, g.loaded);
              const pct = g.requested ? (100 * g.delivered) / g.requested : 0;
              return el(
                "div",
                { style: "display:flex;gap:.5rem;align-items:center" },
                bar(
                  [
                    { value: g.delivered, class: "delivered" },
                    { value: onWay, class: "loaded" },
                  ],
                  g.requested,
                  t("requests.bar_label", { pct: num(pct, 0) })
                ),
                el("span.bar-label", `${num(pct, 0)} %`)
              );
            },
          },
        ],
        groups,
        { testid: "fulfilment-table", rowTestid: "fulfilment-row" }
      )
    )
  );

  root.append(
    el(
      "div.card",
      el("h2", t("requests.all")),
      dataTable(
        [
          { key: "destination", label: t("col.destination"), render: (r) => destName(r.destination) },
          { key: "request", label: t("col.request"), render: (r) => el("code", r.request) },
          { key: "item", label: t("col.item"), render: (r) => el("code", r.item) },
          { key: "priority", label: t("col.priority"), num: 0 },
          {
            key: "needed_by",
            label: t("col.needed_by"),
            render: (r) => el("span", ltr(r.needed_by), r.status !== "cancelled" && Number(r.outstanding) > 0 && r.needed_by < today ? [" ", badge("bad", t("requests.overdue"))] : null),
          },
          { key: "requested", label: t("col.requested"), num: 0 },
          { key: "loaded", label: t("col.loaded"), num: 0 },
          { key: "delivered", label: t("col.delivered"), num: 0 },
          { key: "outstanding", label: t("col.outstanding"), num: 0 },
          {
            key: "must_ship",
            label: t("requests.must_ship"),
            render: (r) => {
              const marked = mustShip.get(r.request) === true;
              const open = r.status !== "cancelled" && r.status !== "met";
              const mark = marked ? badge("warn", t("reason.must_ship")) : null;
              if (!CAN_MARK.has(ctx.user.role) || (!open && !marked)) return mark;
              const b = el(
                "button.btn.btn-quiet",
                { type: "button", "data-testid": "request-must-ship", "data-code": r.request, "aria-pressed": String(marked), title: t("requests.must_ship_hint") },
                t(marked ? "requests.must_ship_off" : "requests.must_ship_on")
              );
              b.addEventListener("click", async () => {
                b.disabled = true;
                try {
                  await api.post(`/requests/${encodeURIComponent(r.request)}/must-ship`, { must_ship: !marked });
                  ctx.rerender();
                } catch (err) {
                  b.replaceWith(errorBox(err));
                }
              });
              return el("span", mark, mark ? " " : null, b);
            },
          },
          {
            key: "status",
            label: t("col.status"),
            render: (r) => {
              const cancellable = CAN_FILE.has(ctx.user.role) && (r.status === "open" || r.status === "planned") && !(Number(r.delivered) > 0);
              if (!cancellable) return statusBadge(r.status);
              const b = el("button.btn.btn-quiet", { type: "button", "data-testid": "request-cancel", "data-code": r.request }, t("requests.cancel"));
              b.addEventListener("click", async () => {
                // A second click confirms (no modal dialog, which a phone may hide).
                if (!b.dataset.armed) {
                  b.dataset.armed = "true";
                  b.textContent = t("requests.cancel_confirm", { code: r.request });
                  return;
                }
                b.disabled = true;
                try {
                  await api.post(`/requests/${encodeURIComponent(r.request)}/cancel`, {});
                  ctx.rerender();
                } catch (err) {
                  b.replaceWith(errorBox(err));
                }
              });
              return el("span", statusBadge(r.status), " ", b);
            },
          },
        ],
        rows,
        { testid: "requests-table", rowTestid: "request-row", cards: true }
      )
    )
  );
}
