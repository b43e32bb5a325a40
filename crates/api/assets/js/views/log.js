// The audit log: every operation with time, actor, kind, key, documents and
// transfer count (scoped by the server to what the user may see), the log's
// signed head, and, for hub staff, a donor's proof to download.

import { api, ref, session } from "../api.js";
import { t, num } from "../i18n.js";
import { el, dataTable, kpi, loading, errorBox } from "../ui.js";

const STAFF = ["admin", "operator", "auditor"];

export async function downloadProof(code, status) {
  status.textContent = t("log.proof_preparing");
  try {
    const res = await fetch(`/api/donors/${encodeURIComponent(code)}/proof`, {
      headers: { Authorization: `Bearer ${session()?.token || ""}` },
    });
    if (!res.ok) throw new Error(`${res.status}`);
    const blob = await res.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `proof-${code}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = t("log.proof_ready");
  } catch (err) {
    status.textContent = `${t("log.proof_failed")} (${err.message || err})`;
  }
}

export async function renderLog(root, ctx) {
  root.append(el("h1", t("log.title")), el("p.lead", t("log.lead")), loading());
  const [ops, head] = await Promise.all([api.get("/log"), api.get("/log/head").catch(() => null)]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  const actors = new Set(ops.map((o) => o.actor));
  root.append(
    el(
      "div.kpis",
      kpi(t("log.operations"), num(ops.length), null, "log-count"),
      kpi(t("log.actors"), num(actors.size)),
      kpi(t("log.tree_size"), head ? num(head.tree_size) : "—"),
      kpi(t("log.root"), head ? el("code", head.root_hash.slice(0, 16)) : "—")
    )
  );
  if (head) {
    root.append(
      el("p.muted", t("log.head_note", { key: head.public_key.slice(0, 16) }))
    );
  }
  if (STAFF.includes(ctx.user.role)) {
    const select = el("select", { id: "proof-donor", "data-testid": "proof-donor" });
    const status = el("span.muted", { role: "status" });
    try {
      const orgs = await ref("/organisations");
      for (const o of orgs.filter((o) => o.kind === "donor")) select.append(el("option", { value: o.code }, `${o.code} — ${o.name}`));
    } catch (err) {
      root.append(errorBox(err));
    }
    root.append(
      el(
        "div.card",
        el("h2", t("log.proof_title")),
        el("p", t("log.proof_lead")),
        el("label", { for: "proof-donor" }, t("log.donor"), " "),
        select,
        " ",
        el("button", { type: "button", "data-testid": "download-proof", onclick: () => downloadProof(select.value, status) }, t("log.download_proof")),
        " ",
        status
      )
    );
  }
  const filter = el("input", { type: "search", id: "log-filter", placeholder: t("log.filter") });
  const label = el("label", { for: "log-filter" }, t("log.filter"), " ");
  const tableBox = el("div");
  const columns = [
    { key: "leaf_index", label: "#", num: 0 },
    { key: "time", label: t("log.time"), render: (o) => new Date(o.recorded_at_unix_ms).toISOString().slice(0, 16).replace("T", " ") },
    { key: "actor", label: t("log.actor") },
    { key: "kind", label: t("log.kind"), render: (o) => el("code", o.kind) },
    { key: "key", label: t("log.key") },
    { key: "documents", label: t("log.documents"), render: (o) => o.documents.map((d) => (d.key ? `${d.table}:${d.key}` : d.table)).join(" ") },
    { key: "transfer_count", label: t("log.transfers"), num: 0 },
  ];
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = ops
      .filter((o) => !q || [o.actor, o.kind, o.key].some((v) => String(v).toLowerCase().includes(q)))
      .slice()
      .reverse();
    tableBox.replaceChildren(dataTable(columns, rows, { testid: "audit-log", tall: true }));
  };
  filter.addEventListener("input", draw);
  root.append(el("div.card", el("h2", t("log.operations")), el("p", label, filter), tableBox));
  draw();
}
