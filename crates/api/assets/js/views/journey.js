// A donor's view: their statement (pledged -> delivered) and each lot's
// journey: pledge -> leg -> receipt -> stock -> departure -> delivery.

import { api, ref, tableRows } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox, statusBadge } from "../ui.js";
import { downloadProof } from "./log.js";

const STAGES = ["pledge", "leg", "receipt", "stock", "departure", "delivery"];

/** The stages of one lot (GET /api/donor/journey `lots[]`): for each, reached or not and a short description. */
function stagesOf(lot, pledgesByItem, allPledges, destName) {
  const shipments = lot.shipments || [];
  const delivered = shipments.filter((s) => s.delivered !== null && s.delivered !== undefined);
  // A lot names no pledge; with pledge lines (item by item) the pledges of its
  // item are shown, otherwise the donor's pledges made by the lot's arrival.
  const pledges = pledgesByItem
    ? pledgesByItem.get(lot.item) || []
    : allPledges.filter((p) => !p.cancelled_on && (!lot.expected_arrival || String(p.created || p.pledged_on) <= lot.expected_arrival));
  const received = Boolean(lot.received_on);
  return {
    pledge: {
      reached: pledges.length > 0,
      text: pledges.slice(0, 3).map((p) => p.code).join(", ") + (pledges.length > 3 ? ` +${pledges.length - 3}` : ""),
    },
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
        .map((s) => `${s.departure} → ${destName(s.destination)} · ${s.departs || s.departs_on || ""} · ${t("col.loaded")} ${num(s.loaded)}`)
        .join("; "),
    },
    delivery: {
      reached: delivered.length > 0,
      text: delivered.map((s) => `${destName(s.destination)} · ${t("col.delivered")} ${num(s.delivered)}`).join("; "),
    },
  };
}

function journeyItem(lot, pledgesByItem, allPledges, destName, itemNames) {
  const stages = stagesOf(lot, pledgesByItem, allPledges, destName);
  let last = -1;
  STAGES.forEach((id, i) => {
    if (stages[id].reached) last = i;
  });
  // A lot wholly delivered has no current stage: its journey is over.
  const shipments = lot.shipments || [];
  const finished =
    last === STAGES.length - 1 && !(Number(lot.in_stock) > 0) && shipments.every((s) => s.delivered !== null && s.delivered !== undefined);
  const title = [itemNames.has(lot.item) ? `${itemNames.get(lot.item)} (${lot.item})` : lot.item, `${t("col.lot")} ${lot.lot_id}`, lot.batch, lot.expiry ? `${t("col.expiry")} ${lot.expiry}` : null]
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
        const state = stage.reached ? (i === last && !finished ? "current" : "done") : "todo";
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
  const [journey, statement, destinations, pledgeList, organisations, itemList] = await Promise.all([
    api.get("/donor/journey"),
    org ? api.get(`/reports/donor-statement/${encodeURIComponent(org)}`).catch((e) => e) : Promise.resolve(null),
    ref("/destinations").catch(() => []),
    api.get("/pledges").catch(() => []),
    ref("/organisations").catch(() => []),
    ref("/items").catch(() => []),
  ]);
  // Names from the reference lists, in the user's language (the server's
  // reports name things in English).
  const names = new Map(destinations.map((d) => [d.locode, d.name]));
  const destName = (code) => names.get(code) || code;
  const orgNames = new Map(organisations.map((o) => [o.code, o.name]));
  const itemNames = new Map(itemList.map((i) => [i.code, i.name]));
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();

  const statementItems = statement && !(statement instanceof Error) ? tableRows(statement.items) : [];
  const totals =
    statement && statement.totals
      ? statement.totals
      : statementItems.find((r) => r.item === "(all items)") ||
        (statementItems.length
          ? ["pledged", "received", "in_stock", "shipped", "delivered", "lost"].reduce(
              (o, k) => ({ ...o, [k]: statementItems.reduce((s, r) => s + (Number(r[k]) || 0), 0) }),
              {}
            )
          : null);
  if (statement instanceof Error) root.append(errorBox(statement));
  else if (statement && totals) {
    const s = { ...totals, lost_total: totals.lost_total ?? totals.lost };
    const destinationsRows = tableRows(statement.destinations);
    root.append(
      el("h2", { "data-testid": "donor-name" }, orgNames.has(statement.donor) ? `${orgNames.get(statement.donor)} (${statement.donor})` : statement.donor),
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
    const proofStatus = el("span.muted", { role: "status", "data-testid": "donor-proof-status" });
    root.append(
      el(
        "div.card",
        el("h2", t("journey.proof_title")),
        el("p", t("journey.proof_lead")),
        el("button", { type: "button", "data-testid": "donor-download-proof", onclick: () => downloadProof(statement.donor, proofStatus) }, t("journey.download_proof")),
        " ",
        proofStatus
      )
    );
    if (destinationsRows.length) {
      root.append(
        el(
          "div.card",
          el("h2", t("journey.where_it_went")),
          dataTable(
            [
              { key: "name", label: t("col.destination"), render: (d) => el("span", destName(d.destination), " ", el("code.muted", d.destination)) },
              { key: "item", label: t("col.item"), render: (d) => el("span", el("code", d.item), itemNames.has(d.item) ? ` ${itemNames.get(d.item)}` : "") },
              { key: "shipped", label: t("journey.shipped"), num: 0 },
              { key: "delivered", label: t("journey.delivered"), num: 0 },
              {
                key: "in_transit",
                label: t("col.in_transit"),
                num: 0,
                render: (d) => num(Math.max(0, (Number(d.shipped) || 0) - (Number(d.delivered) || 0) - (Number(d.short_delivered) || 0))),
              },
              { key: "short_delivered", label: t("journey.short_delivered"), num: 0 },
            ],
            destinationsRows,
            { testid: "donor-destinations", tall: true }
          )
        )
      );
    }
  }

  const lots = (Array.isArray(journey) ? journey : journey?.lots) || [];
  // The pledges with their lines (GET /api/pledges), so each lot names the pledges of its item only.
  const lined = new Map((pledgeList || []).map((p) => [p.code, p]));
  const pledges = (journey?.pledges || []).map((p) => ({ ...p, lines: lined.get(p.code)?.lines, status: lined.get(p.code)?.status }));
  let pledgesByItem = null;
  if (pledges.some((p) => Array.isArray(p.lines))) {
    pledgesByItem = new Map();
    for (const p of pledges) {
      if (p.cancelled_on) continue;
      for (const line of p.lines || []) {
        if (!pledgesByItem.has(line.item)) pledgesByItem.set(line.item, []);
        if (!pledgesByItem.get(line.item).includes(p)) pledgesByItem.get(line.item).push(p);
      }
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
            { key: "created", label: t("journey.pledged_on"), render: (p) => p.created || p.pledged_on || "" },
            {
              key: "pledged",
              label: t("journey.pledged"),
              num: 0,
              render: (p) => num(p.pledged ?? (p.lines || []).reduce((s, l) => s + (Number(l.quantity) || 0), 0)),
            },
            {
              key: "outstanding",
              label: t("journey.outstanding"),
              num: 0,
              render: (p) => num(p.outstanding ?? (p.lines || []).reduce((s, l) => s + (Number(l.outstanding) || 0), 0)),
            },
            {
              key: "status",
              label: t("col.status"),
              render: (p) => statusBadge(p.cancelled_on ? "cancelled" : p.status || (Number(p.outstanding) > 0 ? "open" : "fulfilled")),
            },
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
    list.replaceChildren(...shown.slice(0, 200).map((l) => journeyItem(l, pledgesByItem, pledges, destName, itemNames)));
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
