// Administration: users (add, disable) and corrections of journal entries.

import { api, ref } from "../api.js";
import { t } from "../i18n.js";
import { el, dataTable, loading, statusBadge, form, formCard, options, errorBox } from "../ui.js";
import { renderMasterData } from "./master.js";

const ROLES = ["admin", "operator", "donor", "recipient", "auditor"];

export async function renderAdmin(root, ctx) {
  root.append(el("h1", t("admin.title")), el("p.lead", t("admin.lead")), loading());
  const admin = ctx.user.role === "admin";
  const [users, orgs] = await Promise.all([admin ? api.get("/users") : [], admin ? ref("/organisations") : []]);
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();

  const correction = form({
    id: "correction-form",
    submit: t("correction.submit"),
    fields: [
      { name: "entry_seq", label: t("correction.entry"), type: "number", min: 1, step: 1, required: true },
      { name: "quantity", label: t("correction.quantity"), type: "number", min: 1, step: 1, hint: t("correction.quantity_hint") },
      { name: "reason", label: t("form.reason"), required: true },
    ],
    onSubmit: async (v, node) => {
      const r = await api.post("/corrections", { entry_seq: v.entry_seq ?? 0, quantity: v.quantity, reason: v.reason }, node.key);
      return t("correction.done", { reference: r.reference, seq: r.first_seq });
    },
  });
  root.append(formCard(t("correction.title"), correction));
  if (!admin) return;

  const userForm = form({
    id: "user-form",
    submit: t("users.add"),
    fields: [
      { name: "username", label: t("login.username"), required: true, ltr: true },
      { name: "password", label: t("login.password"), type: "password", required: true },
      { name: "role", label: t("users.role"), type: "select", options: ROLES.map((r) => [r, t(`role.${r}`)]) },
      { name: "organisation", label: t("users.organisation"), type: "select", options: options(orgs.filter((o) => o.kind === "donor"), (o) => o.code, (o) => `${o.name} (${o.code})`, t("form.none")) },
      { name: "country", label: t("users.country"), placeholder: "SD", ltr: true },
    ],
    onSubmit: async (v, node) => {
      await api.post("/users", { ...v, organisation: v.organisation || null, country: v.country ? v.country.toUpperCase() : null }, node.key);
      ctx.rerender();
      return false;
    },
  });
  root.append(formCard(t("users.add"), userForm));
  const master = el("section", { "data-testid": "master-data" });
  root.append(master);
  await renderMasterData(master, ctx);
  if (!ctx.isCurrent()) return;
  const message = el("div", { "aria-live": "polite" });
  root.append(
    message,
    el(
      "div.card",
      el("h2", t("users.title")),
      dataTable(
        [
          { key: "username", label: t("login.username"), render: (u) => el("code", u.username) },
          { key: "role", label: t("users.role"), render: (u) => t(`role.${u.role}`) },
          { key: "organisation", label: t("users.organisation"), render: (u) => u.organisation || u.country || "" },
          {
            key: "disabled",
            label: t("col.status"),
            render: (u) => {
              if (u.disabled || u.disabled_at || u.active === false) {
                const e = el("button.btn.btn-quiet", { type: "button", "data-testid": "user-enable", "data-user": u.username }, t("users.enable"));
                e.addEventListener("click", async () => {
                  e.disabled = true;
                  try {
                    await api.post(`/users/${encodeURIComponent(u.username)}/enable`, {});
                    ctx.rerender();
                  } catch (err) {
                    message.replaceChildren(errorBox(err));
                  }
                });
                return el("span", statusBadge("disabled"), " ", e);
              }
              if (u.username === ctx.user.username) return statusBadge("active");
              const b = el("button.btn.btn-quiet", { type: "button", "data-testid": "user-disable", "data-user": u.username }, t("users.disable"));
              b.addEventListener("click", async () => {
                b.disabled = true;
                try {
                  await api.post(`/users/${encodeURIComponent(u.username)}/disable`, {});
                  ctx.rerender();
                } catch (err) {
                  message.replaceChildren(errorBox(err));
                }
              });
              return el("span", statusBadge("active"), " ", b);
            },
          },
        ],
        users,
        { testid: "users-table", rowTestid: "user-row", cards: true }
      )
    )
  );
}
