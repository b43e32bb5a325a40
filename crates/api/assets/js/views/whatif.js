// What if: pick or edit a scenario (reliefhub-scenario/1), run it against the
// hub's state, and compare with the plan as it is: value delivered per
// scenario, the fan of random runs, shortfall per destination (uPlot), and
// the figures side by side. Nothing is written.

import { api, newKey, hubToday } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, loading, errorBox } from "../ui.js";

const COLOURS = ["#1f4e9a", "#b33c00", "#2e6b30", "#7b2c8f"];

function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Example scenarios built from the hub's own nodes, departures and destinations. */
function presets(today, nodes, departures) {
  const port = (nodes.find((n) => n.kind === "port") || nodes[0] || {}).code || "TARTUS-PORT";
  const open = departures.filter((d) => d.status === "open" && d.departs >= today);
  const busiest = {};
  for (const d of open) busiest[d.destination] = (busiest[d.destination] || 0) + 1;
  const destination = Object.keys(busiest).sort((a, b) => busiest[b] - busiest[a])[0] || "SDPZU";
  const charter = open.find((d) => d.service === "charter");
  return [
    {
      id: "storm",
      scenario: {
        format: "reliefhub-scenario/1",
        name: t("whatif.preset_storm"),
        changes: [{ kind: "close_node", node: port, from: today, to: addDays(today, 7) }],
      },
    },
    {
      id: "uncertain",
      scenario: {
        format: "reliefhub-scenario/1",
        name: t("whatif.preset_uncertain"),
        seed: 1,
        random: {
          charter_cancellation: 0.2,
          departure_delay: { median_days: 1, spread: 0.7 },
          leg_delay: { median_days: 2, spread: 0.6 },
        },
      },
    },
    {
      id: "surge",
      scenario: {
        format: "reliefhub-scenario/1",
        name: t("whatif.preset_surge", { destination }),
        changes: [
          { kind: "multiply_requests", destination, factor: 3 },
          ...(charter ? [{ kind: "cancel_departure", departure: charter.code }] : []),
          { kind: "costs", factor: 1.5, mode: "air" },
        ],
      },
    },
  ];
}

function columns(report) {
  return [report.baseline, ...(report.scenarios || [])].filter((c) => c && c.runs > 0);
}

function cell(c, stat, scale = 1, digits = 0) {
  if (!stat) return "—";
  const p = (v) => num(Number(v) * scale, digits);
  return c.random && c.runs > 1 ? `${p(stat.p50)} (${p(stat.p10)}–${p(stat.p90)})` : p(stat.p50);
}

function reasonLabel(reason) {
  const key = `whatif.reason.${reason.replace(/ /g, "_")}`;
  return t(key) === key ? reason : t(key);
}

/** The figures side by side: one row per figure, one column per scenario. */
function figuresTable(report) {
  const cols = columns(report);
  const rows = [];
  const add = (label, pick, scale, digits) => rows.push({ label, cells: cols.map((c) => cell(c, pick(c), scale, digits)) });
  add(t("whatif.value_delivered"), (c) => c.figures.value_delivered, 1, 0);
  add(t("whatif.freight_cost"), (c) => c.figures.freight_cost, 1, 0);
  add(t("whatif.objective"), (c) => c.figures.objective, 1, 0);
  add(t("whatif.delivered_t"), (c) => c.figures.delivered_t, 1, 1);
  add(t("whatif.expiring_t"), (c) => c.figures.expiring_unused_t, 1, 1);
  const priorities = [...new Set(cols.flatMap((c) => Object.keys(c.figures.on_time_share || {})))].sort();
  for (const p of priorities) add(t("whatif.on_time", { priority: p }), (c) => c.figures.on_time_share[p], 100, 0);
  const destinations = [...new Set(cols.flatMap((c) => Object.keys(c.figures.tonnes_by_destination || {})))].sort();
  for (const d of destinations) add(t("whatif.tonnes_to", { destination: d }), (c) => c.figures.tonnes_by_destination[d], 1, 1);
  const reasons = [...new Set(cols.flatMap((c) => Object.keys(c.figures.unmet_requests_by_reason || {})))];
  for (const r of reasons) {
    add(t("whatif.unmet_reason", { reason: reasonLabel(r) }), (c) => c.figures.unmet_requests_by_reason[r] || { p10: 0, p50: 0, p90: 0 }, 1, 0);
  }
  return dataTable(
    [
      { key: "label", label: t("whatif.figure") },
      ...cols.map((c, i) => ({ key: `c${i}`, label: c.runs > 1 ? `${c.name} (${t("whatif.runs_n", { n: c.runs })})` : c.name, render: (r) => r.cells[i], num: 0 })),
    ],
    rows,
    { caption: t("whatif.table_caption"), testid: "whatif-table", tall: true }
  );
}

function plot(holder, opts, data) {
  if (!window.uPlot) {
    holder.append(el("p.muted", t("app.chart_unavailable")));
    return;
  }
  const width = Math.max(320, holder.clientWidth || 900);
  const chart = new window.uPlot({ width, height: 280, ...opts }, data, holder);
  new ResizeObserver(() => {
    const w = holder.clientWidth;
    if (w && Math.abs(w - chart.width) > 4) chart.setSize({ width: w, height: 280 });
  }).observe(holder);
}

/** Value delivered per scenario (median), and the 10th and 90th percentiles as points. */
function valueChart(holder, report) {
  const cols = columns(report);
  const xs = cols.map((_, i) => i);
  const bars = window.uPlot && window.uPlot.paths.bars({ size: [0.5, 120] });
  plot(
    holder,
    {
      title: t("whatif.chart_value"),
      scales: { x: { time: false, range: [-0.6, cols.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { values: (u, vals) => vals.map((v) => (Number.isInteger(v) && cols[v] ? cols[v].name : "")), splits: () => xs },
        { size: 80, values: (u, vals) => vals.map((v) => num(v)) },
      ],
      series: [
        { label: t("whatif.scenario") },
        { label: t("whatif.value_delivered"), stroke: COLOURS[0], fill: `${COLOURS[0]}cc`, paths: bars, points: { show: false } },
        { label: "p10", stroke: "#000", width: 0, points: { show: true, size: 7, fill: "#000" } },
        { label: "p90", stroke: "#000", width: 0, points: { show: true, size: 7, fill: "#fff" } },
      ],
    },
    [
      xs,
      cols.map((c) => c.figures.value_delivered.p50),
      cols.map((c) => (c.random && c.runs > 1 ? c.figures.value_delivered.p10 : null)),
      cols.map((c) => (c.random && c.runs > 1 ? c.figures.value_delivered.p90 : null)),
    ]
  );
}

/** Cumulative value by arrival day: lines, and for random scenarios a band from p10 to p90. */
function fanChart(holder, report) {
  const xs = (report.days || []).map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const series = [{ label: t("whatif.day") }];
  const data = [xs];
  const bands = [];
  columns(report).forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const fan = c.value_by_day || {};
    if (c.random && c.runs > 1) {
      series.push({ label: `${c.name} p90`, stroke: `${colour}66`, width: 1, points: { show: false } });
      data.push(fan.p90 || []);
      series.push({ label: `${c.name} p10`, stroke: `${colour}66`, width: 1, points: { show: false } });
      data.push(fan.p10 || []);
      bands.push({ series: [series.length - 2, series.length - 1], fill: `${colour}33` });
    }
    series.push({ label: c.random && c.runs > 1 ? `${c.name} p50` : c.name, stroke: colour, width: i === 0 ? 3 : 2, points: { show: false } });
    data.push(fan.p50 || []);
  });
  plot(
    holder,
    {
      title: t("whatif.chart_fan"),
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.05)] } },
      axes: [{}, { size: 80, values: (u, vals) => vals.map((v) => num(v)) }],
      series,
      bands,
    },
    data
  );
}

/** Tonnes short per destination, each scenario's median side by side. */
function shortfallChart(holder, report) {
  const cols = columns(report);
  const destinations = [...new Set(cols.flatMap((c) => Object.keys(c.figures.shortfall_t_by_destination || {})))].sort();
  const xs = destinations.map((_, i) => i);
  const k = Math.max(1, cols.length);
  const series = [{ label: t("col.destination") }];
  const data = [xs];
  cols.forEach((c, j) => {
    const colour = COLOURS[j % COLOURS.length];
    // Two columns (the baseline and one scenario): left and right of each destination.
    const align = k === 2 ? (j === 0 ? -1 : 1) : 0;
    const paths = window.uPlot && window.uPlot.paths.bars({ size: [k === 2 ? 0.4 : 0.8 / k, 60], align });
    series.push({ label: c.name, stroke: colour, fill: `${colour}cc`, paths, points: { show: false } });
    data.push(destinations.map((d) => (c.figures.shortfall_t_by_destination[d] || {}).p50 ?? 0));
  });
  plot(
    holder,
    {
      title: t("whatif.chart_shortfall"),
      scales: { x: { time: false, range: [-0.6, destinations.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? destinations[v] || "" : "")), splits: () => xs },
        { label: t("whatif.tonnes_short"), size: 70, values: (u, vals) => vals.map((v) => num(v, 1)) },
      ],
      series,
    },
    data
  );
}

function effectsList(report) {
  return (report.scenarios || []).map((c) =>
    el("div", el("h3", c.name), el("ul", { "data-testid": "whatif-effects" }, (c.effects || []).map((e) => el("li", e))))
  );
}

// What a scenario changed, as the what-if engine says it in English
// (crates/whatif/src/apply.rs): each sentence shape a string of its own
// here, filled from the sentence. A sentence of an unknown shape is shown
// as it came.
const EFFECTS = [
  [/^(\d+) charters cancelled at random$/, "effect.charters_cancelled", ["n"]],
  [/^departures delayed (\d+) days in all$/, "effect.departures_delayed", ["days"]],
  [/^inbound legs delayed (\d+) days in all$/, "effect.legs_delayed", ["days"]],
  [/^departure (\S+) cancelled$/, "effect.departure_cancelled", ["departure"]],
  [/^departure (\S+) was already gone$/, "effect.departure_gone", ["departure"]],
  [/^departure (\S+) delayed (-?\d+) days \(leaves (\S+)\)$/, "effect.departure_delayed", ["departure", "days", "date"]],
  [/^inbound leg (\S+) delayed (-?\d+) days \((\d+) units on board\)$/, "effect.leg_delayed", ["leg", "days", "units"]],
  [/^inbound leg (\S+) lost \((\d+) units on board\)$/, "effect.leg_lost", ["leg", "units"]],
  [/^departure (\S+) offers ([\d.]+) kg, ([\d.]+) m3$/, "effect.departure_capacity", ["departure", "kg", "m3"]],
  [/^(\d+) departures from (\S+) (.+) at ([\d.]+) % of their capacity$/, "effect.node_capacity", ["n", "node", "window", "pct"]],
  [/^requests at (\S+): (\d+) units become (\d+)$/, "effect.requests_multiplied", ["destination", "before", "after"]],
  [/^request (\S+) added: (\d+) (\S+) to (\S+) by (\S+)$/, "effect.request_added", ["request", "quantity", "item", "destination", "date"]],
  [/^costs of (\d+) departures x ([\d.]+)$/, "effect.costs", ["n", "factor"]],
  [/^pledge (\S+) is unknown$/, "effect.pledge_unknown", ["pledge"]],
  [/^pledge (\S+) withdrawn: nothing of it is inbound, so the plan does not change$/, "effect.pledge_nothing_inbound", ["pledge"]],
  [/^pledge (\S+) withdrawn: (\d+) units of (\S+) inbound do not come$/, "effect.pledge_withdrawn", ["pledge", "units", "donor"]],
  [/^(\S+) closed (.+?): (\d+) departures cancelled(?:, (\d+) units wait until it reopens \((\d+) lots\))?(?:, (\d+) units cannot move)?$/, "effect.node_closed", ["node", "window", "n", "held_units", "held_lots", "stuck_units"]],
];

/** A window of days ("from A to B", "for the whole plan") in the user's language. */
function windowText(text) {
  let m;
  if (text === "for the whole plan") return t("effect.window_all");
  if ((m = /^from (\S+) to (\S+)$/.exec(text))) return t("effect.window_from_to", { from: m[1], to: m[2] });
  if ((m = /^from (\S+)$/.exec(text))) return t("effect.window_from", { from: m[1] });
  if ((m = /^until (\S+)$/.exec(text))) return t("effect.window_until", { to: m[1] });
  return text;
}

/** One effect of a scenario in the user's language. */
export function effectText(effect) {
  for (const [re, key, names] of EFFECTS) {
    const m = re.exec(effect);
    if (!m) continue;
    const params = Object.fromEntries(names.map((n, i) => [n, m[i + 1]]));
    // Dates keep their order inside right-to-left text.
    for (const [k, v] of Object.entries(params)) if (/^\d{4}-\d{2}-\d{2}$/.test(v || "")) params[k] = `\u2066${v}\u2069`;
    if (params.window !== undefined) params.window = windowText(params.window);
    let text = t(key, params);
    if (key === "effect.node_closed") {
      if (params.held_units !== undefined) text += t("effect.node_closed_held", params);
      if (params.stuck_units !== undefined) text += t("effect.node_closed_stuck", params);
    }
    return text;
  }
  return effect;
}

/** The report with the baseline named and the effects in the user's language. */
function localReport(report) {
  return {
    ...report,
    baseline: report.baseline ? { ...report.baseline, name: t("whatif.baseline") } : report.baseline,
    scenarios: (report.scenarios || []).map((s) => ({ ...s, effects: (s.effects || []).map(effectText) })),
  };
}

function showReport(box, report) {
  report = localReport(report);
  const charts = el("div.whatif-charts", { "data-testid": "whatif-charts" });
  const value = el("div.chart", { "data-testid": "whatif-value-chart", role: "img", "aria-label": t("whatif.chart_value") });
  const fan = el("div.chart", { "data-testid": "whatif-fan-chart", role: "img", "aria-label": t("whatif.chart_fan") });
  const shortfall = el("div.chart", { "data-testid": "whatif-shortfall-chart", role: "img", "aria-label": t("whatif.chart_shortfall") });
  charts.append(el("div.card", value), el("div.card", fan), el("div.card", shortfall));
  box.replaceChildren(
    ...[
      report.stopped ? el("p.alert", t("whatif.stopped")) : null,
      el("div.card", el("h2", t("whatif.figures")), figuresTable(report)),
      charts,
      el("div.card", el("h2", t("whatif.effects")), ...effectsList(report)),
    ].filter(Boolean)
  );
  requestAnimationFrame(() => {
    valueChart(value, report);
    fanChart(fan, report);
    shortfallChart(shortfall, report);
    box.dataset.charts = "drawn";
  });
}

export async function renderWhatIf(root, ctx) {
  root.append(el("h1", t("whatif.title")), el("p.lead", t("whatif.lead")));
  const [today, nodes, departures] = await Promise.all([
    hubToday(),
    api.get("/nodes").catch(() => []),
    api.get("/departures").catch(() => []),
  ]);
  if (!ctx.isCurrent()) return;
  const examples = presets(today, nodes || [], departures || []);
  const pick = el(
    "select#whatif-preset",
    { "data-testid": "whatif-preset" },
    examples.map((p) => el("option", { value: p.id }, p.scenario.name))
  );
  const text = el("textarea#whatif-scenario", {
    // JSON reads left to right in any language.
    dir: "ltr",
    "data-testid": "whatif-scenario",
    rows: "12",
    spellcheck: "false",
    style: "width:100%;font-family:monospace;font-size:.85rem",
  });
  const setPreset = () => {
    const p = examples.find((x) => x.id === pick.value) || examples[0];
    text.value = JSON.stringify(p.scenario, null, 2);
  };
  pick.addEventListener("change", setPreset);
  setPreset();
  const runs = el("input#whatif-runs", { type: "number", min: "1", max: "200", step: "1", value: "20", inputmode: "numeric" });
  const limit = el("input#whatif-time-limit", { type: "number", min: "0.1", max: "10", step: "0.1", value: "0.5" });
  const run = el("button.btn.btn-secondary", { type: "button", "data-testid": "whatif-run" }, t("whatif.run"));
  const message = el("div", { "aria-live": "polite" });
  const result = el("div", { "data-testid": "whatif-result" });
  root.append(
    el(
      "div.card",
      el(
        "div.toolbar",
        el("div.field", el("label", { for: "whatif-preset" }, t("whatif.example")), pick),
        el("div.field", el("label", { for: "whatif-runs" }, t("whatif.runs")), runs),
        el("div.field", el("label", { for: "whatif-time-limit" }, t("whatif.time_limit")), limit),
        run
      ),
      el("div.field", el("label", { for: "whatif-scenario" }, t("whatif.scenario_json")), text)
    ),
    message,
    result
  );
  run.addEventListener("click", async () => {
    let scenario;
    try {
      scenario = JSON.parse(text.value);
    } catch (err) {
      message.replaceChildren(errorBox(new Error(t("whatif.not_json", { message: err.message }))));
      return;
    }
    run.disabled = true;
    message.replaceChildren(loading());
    try {
      const report = await api.post(
        "/whatif",
        { scenario, runs: Number(runs.value) || 20, time_limit_s: Number(limit.value) || 0.5 },
        newKey()
      );
      if (!ctx.isCurrent()) return;
      message.replaceChildren();
      showReport(result, report);
    } catch (err) {
      message.replaceChildren(errorBox(err));
    } finally {
      run.disabled = false;
    }
  });
}

