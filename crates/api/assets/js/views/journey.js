// A donor's view: their statement (pledged -> delivered) and each lot's
// journey: pledge -> leg -> receipt -> stock -> departure -> delivery.

import { api } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox } from "../ui.js";

// Stage keys in journey order, with the names the API may use for each.
const STAGES = [
  { id: "pledge", keys: ["pledge", "pledges"] },
  { id: "leg", keys: ["leg", "legs", "inbound"] },
  { id: "receipt", keys: ["receipt", "receipts", "grn"] },
  { id: "stock", keys: ["stock", "in_stock"] },
  { id: "departure", keys: ["departure", "departures"] },
  { id: "delivery", keys: ["delivery", "deliveries"] },
];

const SUMMARY_FIELDS = [
  "code", "leg", "departure", "node", "destination", "mode", "date", "on", "pledged_on", "expected_arrival", "received_on",
  "departs", "delivered_on", "quantity", "counted", "received", "loaded", "status",
];

function present(v) {
  if (v === null || v === undefined || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  if (typeof v === "number") return v !== 0;
  return String(v) !== "";
}

function describe(v) {
  if (Array.isArray(v)) return v.map(describe).join("; ");
  if (v && typeof v === "object") {
    const parts = [];
    for (const k of SUMMARY_FIELDS) {
      if (v[k] === undefined || v[k] === null || v[k] === "") continue;
      parts.push(typeof v[k] === "number" ? `${t(`field.${k}`) === `field.${k}` ? k : t(`field.${k}`)} ${num(v[k])}` : String(v[k]));
      if (parts.length >= 4) break;
    }
    return parts.join(" · ");
  }
  return typeof v === "number" ? num(v) : String(v ?? "");
}

function stageValue(lot, stage) {
  for (const k of stage.keys) if (lot[k] !== undefined) return lot[k];
  return undefined;
}

function journeyItem(lot) {
  const values = STAGES.map((s) => stageValue(lot, s));
  let last = -1;
  values.forEach((v, i) => {
    if (present(v)) last = i;
  });
  const title = [lot.item, lot.lot_id !== undefined ? `${t("col.lot")} ${lot.lot_id}` : null, lot.batch, lot.expiry ? `${t("col.expiry")} ${lot.expiry}` : null]
    .filter(Boolean)
    .join(" · ");
  return el(
    "li",
    { "data-testid": "journey-lot", "data-lot": lot.lot_id ?? "" },
    el("strong", title || t("journey.consignment")),
    el(
      "ol.steps",
      { "aria-label": t("journey.steps_label") },
      STAGES.map((s, i) => {
        const v = values[i];
        const state = present(v) ? (i === last ? "current" : "done") : "todo";
        return el(
          `li.${state}`,
          { "data-stage": s.id, "data-state": state },
          el("span.step-name", t(`journey.${s.id}`)),
          present(v) ? describe(v) : el("span.muted", t("journey.not_yet")),
          el("span.visually-hidden", ` (${t(`journey.state_${state}`)})`)
        );
      })
    )
  );
}

export async function renderJourney(root, ctx) {
  const org = ctx.user.organisation;
  root.append(el("h1", t("journey.title")), el("p.lead", t("journey.lead", { donor: org || "" })), loading());
  const [journey, statement] = await Promise.all([
    api.get("/donor/journey"),
    org ? api.get(`/reports/donor-statement/${encodeURIComponent(org)}`).catch((e) => e) : Promise.resolve(null),
  ]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();

  if (statement instanceof Error) root.append(errorBox(statement));
  else if (statement && statement.totals) {
    const s = statement.totals;
    root.append(
      el("h2", statement.name ? `${statement.name} (${statement.donor})` : statement.donor),
      el(
        "div.kpis.funnel",
        { "data-testid": "donor-statement" },
        kpi(t("journey.pledged"), num(s.pledged)),
        kpi(t("journey.received"), num(s.received)),
        kpi(t("journey.in_stock"), num(s.in_stock)),
        kpi(t("journey.shipped"), num(s.shipped)),
        kpi(t("journey.delivered"), num(s.delivered), null, "donor-delivered"),
        kpi(t("journey.lost"), num(s.lost_total), s.lost_total ? "warn" : null)
      )
    );
    if (Array.isArray(statement.destinations) && statement.destinations.length) {
      root.append(
        el(
          "div.card",
          el("h2", t("journey.where_it_went")),
          dataTable(
            [
              { key: "name", label: t("col.destination"), render: (d) => el("span", d.name || d.destination, " ", el("code.muted", d.destination)) },
              { key: "item", label: t("col.item"), render: (d) => el("code", d.item) },
              { key: "shipped", label: t("journey.shipped"), num: 0 },
              { key: "delivered", label: t("journey.delivered"), num: 0 },
              { key: "short_delivered", label: t("journey.short_delivered"), num: 0 },
            ],
            statement.destinations,
            { testid: "donor-destinations", tall: true }
          )
        )
      );
    }
  }

  const lots = Array.isArray(journey) ? journey : journey?.lots || journey?.consignments || [];
  const filter = el("input#journey-filter", { type: "search", placeholder: t("journey.filter_placeholder") });
  const list = el("ol.journey", { "data-testid": "journey" });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = lots.filter((l) => !q || JSON.stringify(l).toLowerCase().includes(q));
    list.replaceChildren(...shown.slice(0, 200).map(journeyItem));
    if (!shown.length) list.append(el("li.empty", t("journey.none")));
    else if (shown.length > 200) list.append(el("li.muted", t("journey.more", { n: shown.length - 200 })));
  };
  filter.addEventListener("input", draw);
  root.append(
    el(
      "div.card",
      el("h2", t("journey.consignments", { n: lots.length })),
      el("div.toolbar", el("div.field", el("label", { for: "journey-filter" }, t("journey.filter")), filter)),
      list
    )
  );
  draw();
}
