// The current dispatch plan: departures with their load, unmet requests with
// the reason, and the "Build plan" / "Accept plan" actions.

import { api, newKey } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox, statusBadge, bar, toast } from "../ui.js";

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

function planView(plan, destName) {
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
      kpi(t("plan.objective"), num(plan.objective, 0)),
      kpi(t("plan.upper_bound"), num(plan.upper_bound, 0)),
      kpi(t("plan.gap"), gap === null ? "—" : pct(gap)),
      kpi(t("plan.departures_used"), `${num(used.length)} / ${num((plan.departures || []).length)}`),
      kpi(t("plan.unmet"), num(unmet.length), unmet.length ? "warn" : null, "plan-unmet-count")
    )
  );
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
          { key: "reason", label: t("plan.reason"), render: (u) => t(`reason.${u.reason}`) === `reason.${u.reason}` ? u.reason : t(`reason.${u.reason}`) },
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
  const toolbar = el(
    "div.toolbar",
    el("div.field", el("label", { for: "plan-select" }, t("plan.choose")), select),
    canPlan ? el("div.field", el("label", { for: "plan-time-limit" }, t("plan.time_limit")), timeLimit) : null,
    canPlan ? build : null,
    canPlan ? accept : null
  );
  root.append(toolbar, message, body);

  const destinations = await api.get("/destinations").catch(() => []);
  const names = new Map(destinations.map((d) => [d.locode, d.name]));
  const destName = (code) => (names.get(code) ? `${names.get(code)} (${code})` : code || "");

  let current = null;
  const show = async (id) => {
    body.replaceChildren(loading());
    accept.disabled = true;
    current = await api.get(`/plans/${encodeURIComponent(id)}`);
    if (!ctx.isCurrent()) return;
    body.replaceChildren(planView(current, destName));
    accept.disabled = current.status !== "proposed";
  };
  const list = async (selectId) => {
    const plans = (await api.get("/plans")) || [];
    plans.sort((a, b) => Number(b.id) - Number(a.id));
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
      const plan = await api.post("/plans", { time_limit_s: limit }, keyFor("build"));
      pendingKeys.delete("build");
      message.replaceChildren(el("p.alert.alert-ok", { role: "status", "data-testid": "plan-built" }, t("plan.built", { id: plan.id })));
      await list(plan.id);
    } catch (err) {
      if (err.status && err.status < 500 && err.status !== 409) pendingKeys.delete("build");
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
      if (err.status && err.status < 500 && err.status !== 409) pendingKeys.delete(action);
      message.replaceChildren(errorBox(err));
      accept.disabled = current.status !== "proposed";
    }
  });

  await list();
}
