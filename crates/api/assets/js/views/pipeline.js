// The inbound pipeline: legs on a timeline by expected arrival (uPlot), and the table.

import { api, tableRows, hubToday } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, statusBadge, loadVendor } from "../ui.js";

const DAY_S = 86400;

function dayStart(iso) {
  return Date.parse(`${iso}T00:00:00Z`) / 1000;
}

/** Units per expected-arrival day, split by mode; and units still in transit on each day. */
function series(legs) {
  const days = [...new Set(legs.map((l) => l.expected_arrival).filter(Boolean))].sort();
  if (!days.length) return null;
  const first = dayStart(days[0]) - DAY_S;
  const last = dayStart(days[days.length - 1]) + DAY_S;
  const xs = [];
  for (let d = first; d <= last; d += DAY_S) xs.push(d);
  const index = new Map(xs.map((x, i) => [x, i]));
  const sea = xs.map(() => null);
  const air = xs.map(() => null);
  const transit = xs.map(() => null);
  for (const l of legs) {
    if (!l.expected_arrival) continue;
    const i = index.get(dayStart(l.expected_arrival));
    const units = Number(l.manifested) || 0;
    const target = l.mode === "air" ? air : sea;
    target[i] = (target[i] || 0) + units;
    const open = Number(l.in_transit) || 0;
    if (open > 0) transit[i] = (transit[i] || 0) + open;
  }
  return [xs, sea, air, transit];
}

function drawChart(holder, data) {
  if (!window.uPlot) {
    holder.append(el("p.muted", t("app.chart_unavailable")));
    return;
  }
  const width = Math.max(320, holder.clientWidth || 900);
  const bars = window.uPlot.paths.bars({ size: [0.6, 40], gap: 1 });
  const opts = {
    width,
    height: 260,
    title: t("pipeline.chart_title"),
    tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, max * 1.1)] } },
    axes: [{}, { label: t("unit.units"), size: 70, values: (u, vals) => vals.map((v) => num(v)) }],
    series: [
      { label: t("col.expected_arrival") },
      { label: t("mode.sea"), stroke: "#1f6fb2", fill: "#1f6fb2aa", paths: bars, points: { show: false } },
      { label: t("mode.air"), stroke: "#b35900", fill: "#b35900aa", paths: bars, points: { show: false } },
      { label: t("pipeline.in_transit"), stroke: "#5b2a86", width: 0, points: { show: true, size: 9, fill: "#5b2a86" } },
    ],
  };
  const plot = new window.uPlot(opts, data, holder);
  new ResizeObserver(() => {
    const w = holder.clientWidth;
    if (w && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: 260 });
  }).observe(holder);
}

export async function renderPipeline(root, ctx) {
  root.append(el("h1", t("pipeline.title")), el("p.lead", t("pipeline.lead")), loading());
  let legs;
  if (ctx.user.role !== "donor") {
    legs = tableRows(await api.get("/reports/inbound-pipeline"));
  } else {
    // Donors may only list their legs: GET /api/legs has the same facts.
    legs = (await api.get("/legs")).map((l) => ({
      leg: l.code, mode: l.mode, origin: l.origin, node: l.node, carrier: l.carrier, vehicle: l.reference,
      expected_arrival: l.expected_arrival, manifest_lines: l.lines, manifested: l.units, in_transit: l.in_transit_units, status: l.status,
    }));
  }
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  legs.sort((a, b) => String(a.expected_arrival).localeCompare(String(b.expected_arrival)));

  const today = await hubToday();
  const open = legs.filter((l) => l.status !== "received");
  const kpis = el(
    "div.kpis",
    kpi(t("pipeline.legs"), num(legs.length)),
    kpi(t("pipeline.legs_open"), num(open.length)),
    kpi(t("pipeline.sea_legs"), num(legs.filter((l) => l.mode === "sea").length)),
    kpi(t("pipeline.air_legs"), num(legs.filter((l) => l.mode === "air").length)),
    kpi(t("pipeline.in_transit"), `${num(legs.reduce((s, l) => s + (Number(l.in_transit) || 0), 0))} ${t("unit.units")}`),
    kpi(
      t("pipeline.overdue"),
      num(open.filter((l) => l.expected_arrival && l.expected_arrival < today).length),
      null
    )
  );
  const chart = el("div.chart", { "data-testid": "pipeline-chart", role: "img", "aria-label": t("pipeline.chart_title") });
  root.append(kpis, el("div.card", chart));
  const data = series(legs);
  if (data) {
    await loadVendor("uplot/uPlot.min.css", "uplot/uPlot.iife.min.js").catch(() => {});
    if (ctx.isCurrent()) requestAnimationFrame(() => drawChart(chart, data));
  }
  else chart.append(el("p.empty", t("app.empty")));

  root.append(
    el(
      "div.card",
      dataTable(
        [
          { key: "expected_arrival", label: t("col.expected_arrival") },
          { key: "leg", label: t("col.leg"), render: (l) => el("code", l.leg) },
          { key: "mode", label: t("col.mode"), render: (l) => t(`mode.${l.mode}`) },
          { key: "origin", label: t("col.origin") },
          { key: "node", label: t("col.node") },
          { key: "carrier", label: t("col.carrier") },
          { key: "vehicle", label: t("col.vehicle") },
          { key: "manifested", label: t("col.manifested"), num: 0 },
          { key: "in_transit", label: t("col.in_transit"), num: 0 },
          { key: "status", label: t("col.status"), render: (l) => statusBadge(l.status) },
        ],
        legs,
        { caption: t("pipeline.table_caption"), testid: "pipeline-table", tall: true }
      )
    )
  );
}
