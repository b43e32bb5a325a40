// The current dispatch plan: departures with their load, unmet requests with
// the reason, and the "Build plan" / "Accept plan" actions.

import { api, newKey, ref } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox, statusBadge, bar, toast, ltr, badge } from "../ui.js";

const CAN_PLAN = new Set(["admin", "operator"]);

// One idempotency key per action until it succeeds, so a retry after a lost
// answer cannot build or accept twice.
const pendingKeys = new Map();
function keyFor(action) {
  if (!pendingKeys.has(action)) pendingKeys.set(action, newKey());
  return pendingKeys.get(action);
}

function pct(v) {
  return v === null || v === undefined ? "—" : `${num(v, 1)} %`;
}

function loadPct(d) {
  if (d.load_pct !== undefined && d.load_pct !== null) return Number(d.load_pct);
  return d.payload_kg ? (100 * (Number(d.load_kg) || 0)) / Number(d.payload_kg) : 0;
}

// The planner explains an unmet request in English sentences of a few fixed
// shapes; each shape is a string of its own here, filled from the sentence,
// so the reason reads in the user's language. A sentence of an unknown shape
// is shown as it came.
const REASONS = [
  [/^no departure to (\S+) is scheduled$/, "reason.no_departure", ["destination"]],
  [/^no departure to (\S+) arrives by (\S+) \(needed by (\S+) \+ (\d+) grace days\); the first arrives (\S+)$/, "reason.too_late", ["destination", "latest", "needed_by", "grace", "first"]],
  [/^no departure to (\S+) arriving by (\S+) accepts dangerous goods \((\S+)\)$/, "reason.no_dangerous_goods", ["destination", "latest", "item"]],
  [/^no departure to (\S+) arriving by (\S+) has cold-chain space$/, "reason.no_cold_chain", ["destination", "latest"]],
  [/^freight on the departures to (\S+) costs more than the aid value of (\S+) per unit$/, "reason.freight_cost", ["destination", "value"]],
  [/^not met by the best plan found in the time allowed; departures to (\S+) can take (\S+) and stock was not analysed further$/, "reason.not_analysed", ["destination", "item"]],
  [/^no stock of (\S+) at the hub$/, "reason.no_stock", ["item"]],
  [/^no stock of (\S+) at the hub or arriving in time for a departure to (\S+) \(last one leaves (\S+)\)$/, "reason.no_stock_in_time", ["item", "destination", "last"]],
  [/^stock of (\S+) exists but is earmarked for (.+)$/, "reason.earmarked", ["item", "countries"]],
  [/^all eligible lots of (\S+) expire before the arrival \+ (\d+) days minimum shelf life$/, "reason.expires", ["item", "days"]],
  [/^the eligible stock of (\S+) \((\d+) units\) is used up$/, "reason.used_up", ["item", "units"]],
  [/^the eligible stock of (\S+) \((\d+) units\) is allocated to requests of more value per kg \((.+)\)$/, "reason.allocated_elsewhere", ["item", "units", "requests"]],
  [/^cold volume on the departures to (\S+) \((.+)\) is full$/, "reason.cold_full", ["destination", "departures"]],
  [/^capacity on departures (.+) is used by higher-value cargo$/, "reason.capacity", ["departures"]],
  [/^charter (.+?) not worth its fixed cost for this cargo(?:: its .+? would take (\d+) units of (\S+) \(([\d.]+) t(?:, [\d.]+ % of it)?\), worth (\d+) net of freight, against a fixed cost of (\d+))?$/, "reason.charter", ["departures", "units", "item", "tonnes", "worth", "fixed"]],
  [/^the remaining (\d+) units are less than one pack \((\d+)\) of the eligible stock of (\S+)$/, "reason.less_than_pack", ["units", "pack", "item"]],
  [/^sending the rest would need charter (.+?), not worth its fixed cost for this cargo(?:: its .+? would take (\d+) units of (\S+) \(([\d.]+) t(?:, [\d.]+ % of it)?\), worth (\d+) net of freight, against a fixed cost of (\d+))?$/, "reason.rest_charter", ["departures", "units", "item", "tonnes", "worth", "fixed"]],
  [/^the remaining eligible stock of (\S+) \((\d+) units\) fits only departures already used by more valuable cargo$/, "reason.fits_only_used", ["item", "units"]],
];

/** One reason sentence in the user's language, or null when its shape is unknown. */
function reasonShape(sentence) {
  for (const [re, key, names] of REASONS) {
    const m = re.exec(sentence);
    if (m) {
      const params = Object.fromEntries(names.map((n, i) => [n, m[i + 1]]));
      const text = t(key, params);
      return params.fixed === undefined ? text : `${text} (${t("reason.charter_figures", params)})`;
    }
  }
  return null;
}

/**
 * A planner reason in the user's language: the whole sentence when its
 * shape is known (some shapes hold a "; "), else each "; " part on its own.
 */
export function reasonText(reason) {
  const code = `reason.${reason}`;
  if (t(code) !== code) return t(code);
  const whole = String(reason ?? "");
  return (
    reasonShape(whole) ??
    whole
      .split("; ")
      .map((part) => reasonShape(part) ?? part)
      .join("; ")
  );
}

// A reason given as a code with its figures (plans made since reasons have
// codes): the string of the code, filled from the figures by name.
const list = (v) => (Array.isArray(v) ? v.join(", ") : v ?? "");
const REASON_CODES = {
  no_departure: ["reason.no_departure", (p) => p],
  no_timely_departure: ["reason.too_late", (p) => ({ ...p, grace: p.grace_days, first: p.first_arrives })],
  no_dangerous_goods_departure: ["reason.no_dangerous_goods", (p) => p],
  no_cold_departure: ["reason.no_cold_chain", (p) => p],
  freight_exceeds_value: ["reason.freight_cost", (p) => ({ ...p, value: num(p.value_per_unit, 2) })],
  not_analysed: ["reason.not_analysed", (p) => p],
  no_stock: ["reason.no_stock", (p) => p],
  no_stock_in_time: ["reason.no_stock_in_time", (p) => ({ ...p, last: p.last_departs })],
  earmarked: ["reason.earmarked", (p) => ({ ...p, countries: list(p.countries) })],
  expires_too_soon: ["reason.expires", (p) => ({ ...p, days: p.min_shelf_life_days })],
  stock_used_up: ["reason.used_up", (p) => ({ ...p, units: num(p.units) })],
  stock_allocated: ["reason.allocated_elsewhere", (p) => ({ ...p, units: num(p.units), requests: list(p.requests) })],
  capacity_full: ["reason.capacity", (p) => ({ ...p, departures: list(p.departures) })],
  cold_full: ["reason.cold_full", (p) => ({ ...p, departures: list(p.departures) })],
  less_than_pack: ["reason.less_than_pack", (p) => ({ ...p, units: num(p.units), pack: num(p.pack) })],
  departures_taken: ["reason.fits_only_used", (p) => ({ ...p, units: num(p.units) })],
  no_stock_after_kept: ["reason.no_stock_after_kept", (p) => p],
};

/** The figures of a charter not worth its cost, in the user's language. */
function charterLoad(p) {
  if (p.fixed_cost === undefined) return "";
  return ` (${t("reason.charter_load", {
    units: num(p.units),
    item: p.item,
    tonnes: num((Number(p.weight_kg) || 0) / 1000, 1),
    pct: num(p.capacity_used_pct, 0),
    worth: num(p.value, 0),
    fixed: num(p.fixed_cost, 0),
  })})`;
}

/** An unmet request's reason in the user's language: from its code and
 * figures when the plan gives them, else from its English sentence. */
export function unmetReasonText(u) {
  const p = u.reason_params || {};
  const code = u.reason_code;
  if (code === "charter_not_worth" || code === "charter_not_worth_rest") {
    const charters = list(p.charters);
    if (code === "charter_not_worth_rest") return t("reason.rest_charter", { departures: charters }) + charterLoad(p);
    const full = Array.isArray(p.full) && p.full.length ? t(p.cold_full ? "reason.cold_full" : "reason.capacity", { destination: u.destination, departures: list(p.full) }) + "; " : "";
    return full + t("reason.charter", { departures: charters }) + charterLoad(p);
  }
  const known = REASON_CODES[code];
  if (known) return t(known[0], known[1](p));
  return reasonText(u.reason);
}

/** What a departure costs with its load: fixed cost plus the freight of its cargo. */
function departureCost(d, byCode) {
  const dep = byCode.get(d.code);
  const perKg = dep ? Number(dep.cost_per_kg_usd) || 0 : 0;
  const fixed = Number(d.fixed_cost ?? dep?.fixed_cost_usd) || 0;
  const freight = d.freight_cost !== undefined && d.freight_cost !== null ? Number(d.freight_cost) || 0 : perKg * (Number(d.load_kg) || 0);
  return { fixed, perKg, freight, total: d.used === false ? 0 : fixed + freight };
}

/** Why a kept load was cut, moved or dropped, from its code (keep.rs, planning.rs). */
function changeReason(c) {
  if (!c.reason_code) return "";
  const key = `change.reason.${c.reason_code}`;
  const text = t(key, { departure: c.departure, request: c.request, lot: c.lot_id });
  return text === key ? c.reason || c.reason_code : text;
}

/** The change list of a plan that keeps an accepted plan's loads. */
function changesCard(changes) {
  const rows = changes.changes || [];
  return el(
    "div.card",
    { "data-testid": "plan-changes" },
    el("h2", t("plan.changes_title", { id: changes.based_on })),
    el(
      "div.kpis",
      kpi(t("plan.changes_kept"), num(changes.kept), null, "plan-changes-kept"),
      kpi(t("plan.changes_moved"), num(changes.moved), changes.moved ? "warn" : null, "plan-changes-moved"),
      kpi(t("plan.changes_dropped"), num(changes.dropped), changes.dropped ? "warn" : null, "plan-changes-dropped"),
      kpi(t("plan.changes_added"), num(changes.added), null, "plan-changes-added")
    ),
    dataTable(
      [
        { key: "change", label: t("plan.change"), render: (c) => el("span", { "data-change": c.change }, statusBadge(c.change)) },
        { key: "departure", label: t("col.departure"), render: (c) => el("code", c.departure) },
        { key: "request", label: t("col.request"), render: (c) => el("code", c.request) },
        { key: "lot_id", label: t("col.lot"), render: (c) => ltr(`#${c.lot_id}`) },
        { key: "quantity", label: t("plan.change_units"), render: (c) => (c.kept === c.quantity ? num(c.quantity) : `${num(c.kept)} / ${num(c.quantity)}`) },
        { key: "loaded", label: t("plan.change_loaded"), render: (c) => (c.loaded ? t("plan.change_on_board") : "") },
        { key: "moved_to", label: t("plan.change_moved_to"), render: (c) => (c.moved_to || []).map((m) => el("code", m, " ")) },
        { key: "reason", label: t("plan.reason"), render: (c) => el("span", { "data-testid": "plan-change-reason" }, changeReason(c)) },
      ],
      rows,
      { testid: "plan-change-list", rowTestid: "plan-change", empty: t("plan.changes_none") }
    )
  );
}

function planView(plan, destName, departures = [], requests = []) {
  const byCode = new Map(departures.map((d) => [d.code, d]));
  const requestsByCode = new Map(requests.map((r) => [r.code, r]));
  const box = el("div", { "data-testid": "plan", "data-plan-id": plan.id });
  const used = (plan.departures || []).filter((d) => d.used !== false);
  const unmet = plan.unmet || [];
  const gap =
    plan.upper_bound && plan.objective !== undefined && Number(plan.upper_bound) > 0
      ? (100 * (Number(plan.upper_bound) - Number(plan.objective))) / Math.abs(Number(plan.upper_bound))
      : null;
  box.append(
    el(
      "div.kpis",
      kpi(t("plan.status"), el("span", { "data-testid": "plan-status", "data-status": plan.status }, statusBadge(plan.status))),
      kpi(t("plan.value_delivered"), num(plan.objective, 0), null, "plan-value", t("plan.value_help")),
      kpi(t("plan.cost"), `${num(used.reduce((s, d) => s + departureCost(d, byCode).total, 0), 0)} USD`, null, "plan-cost", t("plan.cost_help", { fixed: num(used.reduce((s, d) => s + departureCost(d, byCode).fixed, 0), 0), freight: num(used.reduce((s, d) => s + departureCost(d, byCode).freight, 0), 0) })),
      kpi(t("plan.best_possible"), gap === null ? "—" : t("plan.within", { pct: pct(gap) }), null, "plan-gap", plan.upper_bound ? t("plan.best_value", { value: num(plan.upper_bound, 0) }) : null),
      kpi(t("plan.departures_used"), `${num(used.length)} / ${num((plan.departures || []).length)}`),
      kpi(t("plan.unmet"), num(unmet.length), unmet.length ? "warn" : null, "plan-unmet-count")
    )
  );
  if (plan.changes) box.append(changesCard(plan.changes));
  const overrides = plan.overrides;
  if (overrides && typeof overrides === "object") {
    const n = (k) => (Array.isArray(overrides[k]) ? overrides[k].length : 0);
    box.append(
      el("p.alert.alert-info", { "data-testid": "plan-overrides" }, t("plan.overrides", { pin: num(n("pin")), forbid: num(n("forbid")), force: num(n("force")), hold: num(n("hold")) }))
    );
  }
  box.append(
    el(
      "div.card",
      el("h2", t("plan.departures")),
      dataTable(
        [
          { key: "code", label: t("col.departure"), render: (d) => el("code", d.code) },
          { key: "destination", label: t("col.destination"), render: (d) => destName(d.destination) },
          { key: "mode", label: t("col.mode"), render: (d) => (d.mode ? t(`mode.${d.mode}`) : "") },
          { key: "departs", label: t("col.departs") },
          { key: "arrives", label: t("col.arrives") },
          { key: "load_kg", label: t("plan.load_kg"), render: (d) => `${num(d.load_kg, 0)} / ${num(d.payload_kg, 0)}` },
          {
            key: "load_pct",
            label: t("plan.load_pct"),
            render: (d) => {
              const p = loadPct(d);
              return el(
                "div",
                { style: "display:flex;gap:.5rem;align-items:center;min-width:11rem" },
                bar([{ value: p, class: p >= 99.5 ? "load full" : "load" }], 100, t("plan.load_label", { pct: num(p, 0) })),
                el("span.bar-label", { "data-testid": "load-pct" }, pct(p))
              );
            },
          },
          {
            key: "volume",
            label: t("plan.volume_m3"),
            render: (d) => `${num(d.load_m3, 1)} / ${num(d.volume_m3, 1)}`,
          },
          {
            key: "cold",
            label: t("plan.cold_m3"),
            render: (d) => (Number(d.cold_volume_m3) ? `${num(d.load_cold_m3, 1)} / ${num(d.cold_volume_m3, 1)}` : "—"),
          },
          { key: "allocations", label: t("plan.lines"), render: (d) => num((d.allocations || []).length) },
          {
            key: "cost",
            label: t("plan.cost_usd"),
            render: (d) => {
              const c = departureCost(d, byCode);
              // An unused charter shows what it would cost and carry.
              return d.used === false
                ? t("plan.would_cost", { fixed: num(c.fixed, 0), per_kg: num(c.perKg, 2), payload: num(d.payload_kg, 0) })
                : num(c.total, 0);
            },
          },
          {
            key: "value_carried",
            label: t("plan.value_carried"),
            render: (d) => (d.value_carried === undefined ? "—" : num(d.value_carried, 0)),
          },
          { key: "used", label: t("plan.used"), render: (d) => (d.used === false ? statusBadge("unused") : statusBadge("planned")) },
        ],
        plan.departures || [],
        { testid: "plan-departures", rowTestid: "plan-departure", tall: true }
      )
    )
  );
  box.append(
    el(
      "div.card",
      el("h2", t("plan.unmet_title")),
      dataTable(
        [
          { key: "request", label: t("col.request"), render: (u) => el("code", u.request) },
          { key: "destination", label: t("col.destination"), render: (u) => destName(u.destination) },
          { key: "item", label: t("col.item"), render: (u) => el("code", u.item) },
          { key: "quantity", label: t("col.quantity"), num: 0 },
          { key: "priority", label: t("col.priority"), render: (u) => requestsByCode.get(u.request)?.priority ?? "" },
          { key: "needed_by", label: t("col.needed_by"), render: (u) => ltr(requestsByCode.get(u.request)?.needed_by) },
          {
            key: "reason",
            label: t("plan.reason"),
            render: (u) => el("span", u.must_ship ? [badge("warn", t("reason.must_ship")), " "] : null, unmetReasonText(u)),
          },
        ],
        unmet,
        { testid: "plan-unmet", rowTestid: "plan-unmet-row", empty: t("plan.all_met"), tall: true }
      )
    )
  );
  return box;
}

export async function renderPlan(root, ctx) {
  const canPlan = CAN_PLAN.has(ctx.user.role);
  root.append(el("h1", t("plan.title")), el("p.lead", t("plan.lead")));
  const message = el("div", { "aria-live": "polite" });
  const body = el("div", loading());

  const timeLimit = el("input#plan-time-limit", { type: "number", min: "1", max: "300", step: "1", value: "5", inputmode: "numeric" });
  const build = el("button.btn.btn-secondary", { type: "button", "data-testid": "build-plan" }, t("plan.build"));
  const accept = el("button.btn.btn-accept", { type: "button", "data-testid": "accept-plan", disabled: true }, t("plan.accept"));
  const select = el("select#plan-select", { "data-testid": "plan-select" });
  const keep = el("input#plan-keep", { type: "checkbox", "data-testid": "plan-keep-accepted" });
  const keepField = el("div.field.field-check", { hidden: true }, el("label", { for: "plan-keep" }, keep, " ", t("plan.keep_accepted")));
  const toolbar = el(
    "div.toolbar",
    el("div.field", el("label", { for: "plan-select" }, t("plan.choose")), select),
    canPlan ? el("div.field", el("label", { for: "plan-time-limit" }, t("plan.time_limit")), timeLimit) : null,
    canPlan ? keepField : null,
    canPlan ? build : null,
    canPlan ? accept : null
  );
  root.append(toolbar, message, body);

  const [destinations, departures, requests] = await Promise.all([ref("/destinations").catch(() => []), api.get("/departures").catch(() => []), api.get("/requests").catch(() => [])]);
  const names = new Map(destinations.map((d) => [d.locode, d.name]));
  const destName = (code) => (names.get(code) ? `${names.get(code)} (${code})` : code || "");

  let current = null;
  const show = async (id) => {
    body.replaceChildren(loading());
    accept.disabled = true;
    current = await api.get(`/plans/${encodeURIComponent(id)}`);
    if (!ctx.isCurrent()) return;
    body.replaceChildren(planView(current, destName, departures, requests));
    accept.disabled = current.status !== "proposed";
  };
  const list = async (selectId) => {
    const plans = (await api.get("/plans")) || [];
    plans.sort((a, b) => Number(b.id) - Number(a.id));
    // Re-planning around the loads already agreed needs an accepted plan.
    const accepted = plans.some((p) => p.status === "accepted");
    keepField.hidden = !accepted;
    if (!accepted) keep.checked = false;
    const when = (p) => p.planned_on || p.created_at || (p.created_at_unix_ms ? new Date(p.created_at_unix_ms).toISOString().slice(0, 16).replace("T", " ") : "");
    const status = (p) => (t(`status.${p.status}`) === `status.${p.status}` ? p.status : t(`status.${p.status}`));
    select.replaceChildren(...plans.map((p) => el("option", { value: p.id }, `#${p.id} · ${when(p)} · ${status(p)}`)));
    if (!plans.length) {
      body.replaceChildren(el("p.empty", { "data-testid": "no-plan" }, t(canPlan ? "plan.none_build" : "plan.none")));
      return;
    }
    const chosen = selectId ?? plans[0].id;
    select.value = String(chosen);
    await show(chosen);
  };
  select.addEventListener("change", () => show(select.value).catch((e) => message.replaceChildren(errorBox(e))));

  build.addEventListener("click", async () => {
    message.replaceChildren(el("p.alert.alert-info", { role: "status" }, t("plan.building")));
    build.disabled = true;
    accept.disabled = true;
    try {
      const limit = Math.max(1, Math.min(300, Number(timeLimit.value) || 5));
      const body = keep.checked ? { time_limit_s: Math.min(limit, 5), keep_accepted: true } : { time_limit_s: limit };
      const plan = await api.post("/plans", body, keyFor(keep.checked ? "build-keep" : "build"));
      pendingKeys.delete("build-keep");
      pendingKeys.delete("build");
      message.replaceChildren(el("p.alert.alert-ok", { role: "status", "data-testid": "plan-built", "data-plan-id": plan.id }, t("plan.built", { id: plan.id })));
      await list(plan.id);
    } catch (err) {
      if (err.status && err.status < 500 && err.code !== "in_progress") {
        pendingKeys.delete("build");
        pendingKeys.delete("build-keep");
      }
      message.replaceChildren(errorBox(err));
    } finally {
      build.disabled = false;
    }
  });

  accept.addEventListener("click", async () => {
    if (!current) return;
    accept.disabled = true;
    const action = `accept:${current.id}`;
    try {
      const r = await api.post(`/plans/${encodeURIComponent(current.id)}/accept`, {}, keyFor(action));
      pendingKeys.delete(action);
      const loading = r.loading || [];
      const waiting = r.waiting || [];
      const transfers = r.transfers || [];
      message.replaceChildren(
        el(
          "div.alert.alert-ok",
          { role: "status", "data-testid": "plan-accepted" },
          el("strong", t("plan.accepted", { id: r.plan_id ?? current.id })),
          loading.length
            ? el(
                "ul",
                loading.map((l) =>
                  el("li", t("plan.loading_list", { departure: l.departure, lines: Array.isArray(l.lines) ? l.lines.length : l.lines, units: num(l.units) }))
                )
              )
            : el("p", t("plan.nothing_ready")),
          waiting.length ? el("p", t("plan.waiting", { n: waiting.length })) : null,
          transfers.length
            ? el(
                "ul",
                { "data-testid": "plan-transfers" },
                transfers.map((tr) =>
                  el(
                    "li",
                    { "data-testid": "plan-transfer" },
                    t("plan.transfer", { code: tr.code, lots: num(tr.lots), units: num(tr.units), from: tr.from_node, to: tr.to_node })
                  )
                )
              )
            : null
        )
      );
      toast(t("plan.accepted", { id: r.plan_id ?? current.id }));
      await list(current.id);
    } catch (err) {
      if (err.status && err.status < 500 && err.code !== "in_progress") pendingKeys.delete(action);
      message.replaceChildren(errorBox(err));
      accept.disabled = current.status !== "proposed";
    }
  });

  await list();
}
