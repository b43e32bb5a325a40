// Pledges: the list (a donor: their own), recording one, cancelling what is outstanding.

import { api, ref, hubToday } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, loading, statusBadge, form, formCard, options, ltr } from "../ui.js";

const CAN_PLEDGE = new Set(["admin", "operator", "donor"]);

export async function renderPledges(root, ctx) {
  root.append(el("h1", t("pledges.title")), el("p.lead", t("pledges.lead")), loading());
  const donor = ctx.user.role === "donor" ? ctx.user.organisation : null;
  const [pledges, items, orgs, today] = await Promise.all([api.get("/pledges"), ref("/items"), donor ? [] : ref("/organisations"), hubToday()]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  if (CAN_PLEDGE.has(ctx.user.role)) {
    const donors = orgs.filter((o) => o.kind === "donor");
    const f = form({
      id: "pledge-form",
      submit: t("pledges.record"),
      fields: [
        { name: "code", label: t("pledges.code"), required: true, ltr: true },
        donor
          ? { name: "donor", type: "hidden", value: donor }
          : { name: "donor", label: t("col.donor"), type: "select", options: options(donors, (o) => o.code, (o) => `${o.name} (${o.code})`) },
        { name: "pledged_on", label: t("journey.pledged_on"), type: "date", value: today },
        { name: "item", label: t("col.item"), type: "select", options: options(items, (i) => i.code, (i) => `${i.name} (${i.code})`) },
        { name: "quantity", label: t("col.quantity"), type: "number", min: 1, step: 1 },
        { name: "earmark", label: t("pledges.earmark"), placeholder: "SD ML", ltr: true },
        { name: "note", label: t("pledges.note") },
      ],
      onSubmit: async (v, node) => {
        const body = {
          code: v.code,
          donor: v.donor,
          pledged_on: v.pledged_on || null,
          note: v.note,
          lines: [{ item: v.item, quantity: v.quantity ?? 0, earmark: v.earmark.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase()) }],
        };
        await api.post("/pledges", body, node.key);
        ctx.rerender();
        return false;
      },
    });
    root.append(formCard(t("pledges.record"), f));
  }
  const cancelForm = (p) => {
    const f = form({
      id: `pledge-cancel-${p.code.replace(/[^A-Za-z0-9_-]/g, "_")}`,
      className: "inline",
      submit: t("pledges.cancel"),
      fields: [{ name: "reason", label: t("form.reason"), required: true }],
      onSubmit: async (v, node) => {
        await api.post(`/pledges/${encodeURIComponent(p.code)}/cancel`, v, node.key);
        ctx.rerender();
        return false;
      },
    });
    f.dataset.testid = "pledge-cancel";
    return f;
  };
  root.append(
    el(
      "div.card",
      dataTable(
        [
          { key: "code", label: t("pledges.code"), render: (p) => el("code", p.code) },
          { key: "donor", label: t("col.donor"), render: (p) => el("code", p.donor) },
          { key: "created", label: t("journey.pledged_on"), render: (p) => ltr(p.created) },
          { key: "lines", label: t("col.item"), render: (p) => (p.lines || []).map((l) => el("div", el("code", l.item), " ", num(l.quantity), l.earmark?.length ? [" → ", el("bdi", l.earmark.join(" "))] : null)) },
          { key: "outstanding", label: t("journey.outstanding"), num: 0, render: (p) => num((p.lines || []).reduce((s, l) => s + (Number(l.outstanding) || 0), 0)) },
          {
            key: "status",
            label: t("col.status"),
            render: (p) => {
              const open = !p.cancelled_on && (p.lines || []).some((l) => l.outstanding > 0);
              return el("div", statusBadge(p.status), CAN_PLEDGE.has(ctx.user.role) && open ? el("details", el("summary", t("pledges.cancel")), cancelForm(p)) : null);
            },
          },
        ],
        [...pledges].sort((a, b) => String(b.created).localeCompare(String(a.created))),
        { testid: "pledges-table", rowTestid: "pledge-row", cards: true }
      )
    )
  );
}
