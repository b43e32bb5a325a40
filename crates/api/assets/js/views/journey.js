// A donor's view: their statement (pledged -> delivered) and each lot's
// journey: pledge -> leg -> receipt -> stock -> departure -> delivery.

import { api } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox, statusBadge } from "../ui.js";

const STAGES = ["pledge", "leg", "receipt", "stock", "departure", "delivery"];

/** The stages of one lot (GET /api/donor/journey `lots[]`): for each, reached or not and a short description. */
function stagesOf(lot, pledgesByItem, destName) {
  const shipments = lot.shipments || [];
  const delivered = shipments.filter((s) => s.delivered !== null && s.delivered !== undefined);
  const pledges = pledgesByItem.get(lot.item) || [];
  const received = Boolean(lot.received_on);
  return {
    pledge: { reached: pledges.length > 0, text: pledges.map((p) => `${p.code} · ${p.pledged_on || ""}`).join("; ") },
    leg: {
      reached: Boolean(lot.leg),
      text: [lot.leg, lot.mode ? t(`mode.${lot.mode}`) : null, lot.expected_arrival, `${t("col.manifested")} ${num(lot.manifested)}`]
        .filter(Boolean)
        .join(" · "),
    },
    receipt: {
      reached: received,
      text: received ? `${lot.received_on} · ${t("journey.counted")} ${num(lot.counted)}` : "",
    },
    stock: { reached: received, text: received ? `${num(lot.in_stock)} ${t("journey.at_hub_now")}` : "" },
    departure: {
      reached: shipments.length > 0,
      text: shipments
        .map((s) => `${s.departure} → ${destName(s.destination)} · ${s.departs_on || ""} · ${t("col.loaded")} ${num(s.loaded)}`)
        .join("; "),
    },
    delivery: {
      reached: delivered.length > 0,
      text: delivered.map((s) => `${destName(s.destination)} · ${t("col.delivered")} ${num(s.delivered)}`).join("; "),
    },
  };
}

function journeyItem(lot, pledgesByItem, destName) {
  const stages = stagesOf(lot, pledgesByItem, destName);
  let last = -1;
  STAGES.forEach((id, i) => {
    if (stages[id].reached) last = i;
  });
  const title = [lot.item, `${t("col.lot")} ${lot.lot_id}`, lot.batch, lot.expiry ? `${t("col.expiry")} ${lot.expiry}` : null]
    .filter(Boolean)
    .join(" · ");
  return el(
    "li",
    { "data-testid": "journey-lot", "data-lot": lot.lot_id },
    el("strong", title),
    el(
      "ol.steps",
      { "aria-label": t("journey.steps_label") },
      STAGES.map((id, i) => {
        const stage = stages[id];
        const state = stage.reached ? (i === last ? "current" : "done") : "todo";
        return el(
          `li.${state}`,
          { "data-stage": id, "data-state": state },
          el("span.step-name", t(`journey.${id}`)),
          stage.reached ? stage.text : el("span.muted", t(id === "pledge" ? "journey.no_pledge" : "journey.not_yet")),
          el("span.visually-hidden", ` (${t(`journey.state_${state}`)})`)
        );
      })
    )
  );
}

export async function renderJourney(root, ctx) {
  const org = ctx.user.organisation;
  root.append(el("h1", t("journey.title")), el("p.lead", t("journey.lead", { donor: org || "" })), loading());
  const [journey, statement, destinations] = await Promise.all([
    api.get("/donor/journey"),
    org ? api.get(`/reports/donor-statement/${encodeURIComponent(org)}`).catch((e) => e) : Promise.resolve(null),
    api.get("/destinations").catch(() => []),
  ]);
  const names = new Map(destinations.map((d) => [d.locode, d.name]));
  const destName = (code) => names.get(code) || code;
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

  const lots = (Array.isArray(journey) ? journey : journey?.lots) || [];
  const pledges = journey?.pledges || [];
  const pledgesByItem = new Map();
  for (const p of pledges) {
    if (p.cancelled_on) continue;
    for (const line of p.lines || []) {
      if (!pledgesByItem.has(line.item)) pledgesByItem.set(line.item, []);
      if (!pledgesByItem.get(line.item).includes(p)) pledgesByItem.get(line.item).push(p);
    }
  }
  if (pledges.length) {
    root.append(
      el(
        "div.card",
        el("h2", t("journey.pledges")),
        dataTable(
          [
            { key: "code", label: t("journey.pledge"), render: (p) => el("code", p.code) },
            { key: "pledged_on", label: t("journey.pledged_on") },
            { key: "items", label: t("col.item"), render: (p) => (p.lines || []).map((l) => `${l.item} × ${num(l.quantity)}`).join(", ") },
            { key: "outstanding", label: t("journey.outstanding"), render: (p) => num((p.lines || []).reduce((s, l) => s + (Number(l.outstanding) || 0), 0)) },
            { key: "status", label: t("col.status"), render: (p) => (p.cancelled_on ? statusBadge("cancelled") : "") },
          ],
          pledges,
          { testid: "donor-pledges" }
        )
      )
    );
  }
  const filter = el("input#journey-filter", { type: "search", placeholder: t("journey.filter_placeholder") });
  const list = el("ol.journey", { "data-testid": "journey" });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = lots.filter((l) => !q || JSON.stringify(l).toLowerCase().includes(q));
    list.replaceChildren(...shown.slice(0, 200).map((l) => journeyItem(l, pledgesByItem, destName)));
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
