// Today, for the hub manager: overdue requests, late legs, stock expiring
// soon with the days left, and this week's departures.

import { api, hubToday, addDays, daysBetween, ref } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, statusBadge, ltr, badge } from "../ui.js";

const EXPIRY_DAYS = 60;

export async function renderToday(root, ctx) {
  root.append(el("h1", t("today.title")), loading());
  const today = await hubToday();
  const [requests, legs, expiry, departures, destinations] = await Promise.all([
    api.get("/requests"),
    api.get("/legs"),
    api.get(`/stock/expiry?days=${EXPIRY_DAYS}`),
    api.get("/departures"),
    ref("/destinations"),
  ]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  root.append(el("p.lead", t("today.lead"), " ", ltr(today)));
  const names = new Map(destinations.map((d) => [d.locode, d.name]));
  const overdue = requests
    .filter((r) => r.status !== "cancelled" && !r.met && addDays(r.needed_by, Number(r.grace_days) || 0) < today)
    .sort((a, b) => a.priority - b.priority || a.needed_by.localeCompare(b.needed_by));
  const late = legs.filter((l) => l.status !== "received" && l.expected_arrival < today).sort((a, b) => a.expected_arrival.localeCompare(b.expected_arrival));
  const weekEnd = addDays(today, 7);
  const week = departures.filter((d) => d.departs >= today && d.departs <= weekEnd && d.status !== "cancelled").sort((a, b) => a.departs.localeCompare(b.departs));
  const expiring = [...expiry].sort((a, b) => a.days_left - b.days_left);
  root.append(
    el(
      "div.kpis",
      kpi(t("today.overdue"), num(overdue.length), overdue.length ? "bad" : null, "today-overdue"),
      kpi(t("today.late_legs"), num(late.length), late.length ? "warn" : null, "today-late"),
      kpi(t("today.expiring", { days: EXPIRY_DAYS }), num(expiring.length), expiring.length ? "warn" : null, "today-expiring"),
      kpi(t("today.departures_week"), num(week.length), null, "today-week")
    )
  );
  const card = (title, node) => el("div.card", el("h2", title), node);
  root.append(
    el(
      "div.grid",
      card(
        t("today.overdue"),
        dataTable(
          [
            { key: "code", label: t("col.request"), render: (r) => el("code", r.code) },
            { key: "destination", label: t("col.destination"), render: (r) => names.get(r.destination) || r.destination },
            { key: "item", label: t("col.item"), render: (r) => el("code", r.item) },
            { key: "priority", label: t("col.priority"), num: 0 },
            { key: "needed_by", label: t("col.needed_by"), render: (r) => el("span", ltr(r.needed_by), " ", badge("bad", t("today.days_late", { n: daysBetween(r.needed_by, today) }))) },
            { key: "outstanding", label: t("col.outstanding"), num: 0, render: (r) => num(r.quantity - r.delivered) },
          ],
          overdue,
          { testid: "today-overdue-table", cards: true, empty: t("today.none_overdue") }
        )
      ),
      card(
        t("today.late_legs"),
        dataTable(
          [
            { key: "code", label: t("col.leg"), render: (l) => el("a", { href: `#/legs?code=${encodeURIComponent(l.code)}` }, el("code", l.code)) },
            { key: "expected_arrival", label: t("col.expected_arrival"), render: (l) => el("span", ltr(l.expected_arrival), " ", badge("warn", t("today.days_late", { n: daysBetween(l.expected_arrival, today) }))) },
            { key: "carrier", label: t("col.carrier") },
            { key: "status", label: t("col.status"), render: (l) => statusBadge(l.status) },
          ],
          late,
          { testid: "today-late-table", cards: true, empty: t("today.none_late") }
        )
      ),
      card(
        t("today.expiring", { days: EXPIRY_DAYS }),
        dataTable(
          [
            { key: "item", label: t("col.item"), render: (a) => el("code", a.item) },
            { key: "lot_id", label: t("col.lot"), num: 0 },
            { key: "node", label: t("col.node") },
            { key: "expiry", label: t("col.expiry"), render: (a) => ltr(a.expiry) },
            { key: "days_left", label: t("today.days_left"), render: (a) => badge(a.days_left < 0 ? "bad" : a.days_left < 30 ? "warn" : "muted", num(a.days_left)) },
            { key: "quantity", label: t("col.quantity"), num: 0 },
          ],
          expiring,
          { testid: "today-expiry-table", cards: true, tall: true, empty: t("stock.no_expiry") }
        )
      ),
      card(
        t("today.departures_week"),
        dataTable(
          [
            { key: "code", label: t("col.departure"), render: (d) => el("a", { href: `#/departures?code=${encodeURIComponent(d.code)}` }, el("code", d.code)) },
            { key: "departs", label: t("col.departs"), render: (d) => ltr(d.departs) },
            { key: "destination", label: t("col.destination"), render: (d) => names.get(d.destination) || d.destination },
            { key: "loaded_kg", label: t("departures.loaded_kg"), render: (d) => `${num(d.loaded_kg, 0)} / ${num(d.payload_kg, 0)}` },
            { key: "status", label: t("col.status"), render: (d) => statusBadge(d.status) },
          ],
          week,
          { testid: "today-week-table", cards: true, empty: t("today.none_week") }
        )
      )
    )
  );
}
