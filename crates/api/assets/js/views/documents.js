// Documents: goods-received notes and proofs of delivery, and the buttons
// that download any printed document as PDF.

import { api, download } from "../api.js";
import { t } from "../i18n.js";
import { el, dataTable, loading, statusBadge, ltr, errorBox } from "../ui.js";

/** Where each printed document is served. */
export const PDF_PATHS = {
  waybill: (code) => `/departures/${encodeURIComponent(code)}/waybill.pdf`,
  "loading-list": (code) => `/departures/${encodeURIComponent(code)}/loading-list.pdf`,
  pod: (code) => `/departures/${encodeURIComponent(code)}/pod.pdf`,
  grn: (code) => `/legs/${encodeURIComponent(code)}/grn.pdf`,
  statement: (code) => `/reports/donor-statement/${encodeURIComponent(code)}/statement.pdf`,
};

/** "Print" buttons: each downloads one document as PDF. */
export function printLinks(...pairs) {
  const box = el("div.print-links");
  const message = el("div", { "aria-live": "polite" });
  for (let i = 0; i < pairs.length; i += 2) {
    const kind = pairs[i];
    const code = pairs[i + 1];
    const b = el("button.btn.btn-secondary", { type: "button", "data-testid": `print-${kind}` }, t(`print.${kind}`));
    b.addEventListener("click", async () => {
      b.disabled = true;
      message.replaceChildren();
      try {
        await download(PDF_PATHS[kind](code), `${kind}-${code}.pdf`);
        b.dataset.done = "true";
      } catch (err) {
        message.replaceChildren(errorBox(err, "print-error"));
      } finally {
        b.disabled = false;
      }
    });
    box.append(b);
  }
  box.append(message);
  return box;
}

export async function renderDocuments(root, ctx) {
  root.append(el("h1", t("documents.title")), el("p.lead", t("documents.lead")), loading());
  const hub = ["admin", "operator", "auditor"].includes(ctx.user.role);
  const [legs, departures] = await Promise.all([hub || ctx.user.role === "donor" ? api.get("/legs") : [], api.get("/departures")]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  const received = legs.filter((l) => l.received_lines > 0);
  const delivered = departures.filter((d) => d.status === "delivered");
  if (hub || ctx.user.role === "donor") {
    root.append(
      el(
        "div.card",
        el("h2", t("documents.grns")),
        dataTable(
          [
            { key: "code", label: t("col.leg"), render: (l) => el("a", { href: `#/legs?code=${encodeURIComponent(l.code)}` }, el("code", l.code)) },
            { key: "node", label: t("col.node") },
            { key: "expected_arrival", label: t("col.expected_arrival"), render: (l) => ltr(l.expected_arrival) },
            { key: "received_lines", label: t("documents.lines_received"), render: (l) => `${l.received_lines} / ${l.lines}` },
            { key: "status", label: t("col.status"), render: (l) => statusBadge(l.status) },
          ],
          received,
          { testid: "grn-list", cards: true }
        )
      )
    );
  }
  root.append(
    el(
      "div.card",
      el("h2", t("documents.pods")),
      dataTable(
        [
          { key: "code", label: t("col.departure"), render: (d) => el("a", { href: `#/departures?code=${encodeURIComponent(d.code)}` }, el("code", d.code)) },
          { key: "destination", label: t("col.destination"), render: (d) => el("code", d.destination) },
          { key: "departed_on", label: t("departures.departed_on"), render: (d) => ltr(d.departed_on) },
          { key: "loaded_units", label: t("col.loaded"), num: 0 },
          { key: "status", label: t("col.status"), render: (d) => statusBadge(d.status) },
        ],
        delivered,
        { testid: "pod-list", cards: true }
      )
    )
  );
  if (ctx.user.role === "donor" && ctx.user.organisation) {
    root.append(el("div.card", el("h2", t("documents.statement")), printLinks("statement", ctx.user.organisation)));
  }
}
