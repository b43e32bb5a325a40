// Master data (admin): add or edit items, organisations and destinations.
// Typing the code of an existing record fills the form with it; submitting
// then edits it, otherwise adds a new one.

import { api, forgetRefs } from "../api.js";
import { t } from "../i18n.js";
import { el, form, formCard } from "../ui.js";

const CATEGORIES = ["food", "shelter", "wash", "health", "nutrition", "logistics", "energy"];

function nameFields() {
  return [
    { name: "name", label: t("master.name_en"), wide: true },
    { name: "name_fr", label: t("master.name_fr"), wide: true },
    { name: "name_ar", label: t("master.name_ar"), wide: true },
    { name: "name_ru", label: t("master.name_ru"), wide: true },
  ];
}

/** The body to send: on an add, only the fields filled in; on an edit, all. */
function body(values, editing) {
  const out = {};
  for (const [k, v] of Object.entries(values)) {
    if (!editing && (v === "" || v === null)) continue;
    if (editing && v === null) continue;
    out[k] = v;
  }
  return out;
}

/** Fills `node`'s inputs from `record` when its code names one. */
function fillOnCode(node, key, records, toValues) {
  node.input(key).addEventListener("change", () => {
    const found = records.find((r) => r[key] === node.input(key).value.trim());
    if (!found) return;
    for (const [name, value] of Object.entries(toValues(found))) {
      const input = node.input(name);
      if (!input) continue;
      if (input.type === "checkbox") input.checked = !!value;
      else input.value = value ?? "";
    }
  });
}

function said(change, code) {
  return t(change === 201 ? "master.added" : "master.changed", { code });
}

export async function renderMasterData(root, ctx) {
  const [items, orgs, destinations] = await Promise.all([api.get("/items"), api.get("/organisations"), api.get("/destinations")]);
  if (!ctx.isCurrent()) return;
  const done = async (path, editPath, key, values, records) => {
    const code = values[key];
    const editing = records.some((r) => r[key] === code);
    const sent = body(values, editing);
    if (editing) delete sent[key];
    await api.post(editing ? editPath(code) : path, sent);
    forgetRefs();
    return said(editing ? 200 : 201, code);
  };

  const itemForm = form({
    id: "item-form",
    submit: t("form.submit"),
    fields: [
      { name: "code", label: t("master.code"), required: true, ltr: true },
      ...nameFields(),
      { name: "category", label: t("master.category"), type: "select", options: CATEGORIES.map((c) => [c, c]) },
      { name: "unit", label: t("master.unit") },
      { name: "unit_weight_kg", label: t("master.kg"), type: "number", min: 0, step: "any" },
      { name: "unit_volume_m3", label: t("master.m3"), type: "number", min: 0, step: "any" },
      { name: "pack_size", label: t("master.pack_size"), type: "number", min: 1, step: 1 },
      { name: "gtins", label: t("master.gtins"), ltr: true },
      { name: "un_number", label: t("master.un_number"), placeholder: "UN3481", ltr: true },
      { name: "un_class", label: t("master.un_class"), placeholder: "9", ltr: true },
      { name: "cold_chain", label: t("master.cold_chain"), type: "checkbox" },
      { name: "needs_expiry", label: t("master.needs_expiry"), type: "checkbox" },
      { name: "min_shelf_life_days", label: t("master.shelf_life"), type: "number", min: 0, step: 1 },
      { name: "value_usd_per_unit", label: t("master.value_usd"), type: "number", min: 0, step: "any" },
    ],
    onSubmit: async (v) => {
      const values = { ...v, gtins: v.gtins === "" ? [] : v.gtins.split(/[\s,;]+/).filter(Boolean) };
      if (!items.some((i) => i.code === v.code) && !values.gtins.length) delete values.gtins;
      return done("/items", (code) => `/items/${encodeURIComponent(code)}`, "code", values, items);
    },
  });
  fillOnCode(itemForm, "code", items, (i) => ({ ...i, gtins: (i.gtins || []).join(" ") }));

  const orgForm = form({
    id: "organisation-form",
    submit: t("form.submit"),
    fields: [
      { name: "code", label: t("master.code"), required: true, ltr: true },
      ...nameFields(),
      { name: "kind", label: t("master.kind"), type: "select", options: [["donor", t("master.kind.donor")], ["recipient", t("master.kind.recipient")]] },
      { name: "country", label: t("master.country"), placeholder: "JP", ltr: true },
    ],
    onSubmit: async (v) => done("/organisations", (code) => `/organisations/${encodeURIComponent(code)}`, "code", { ...v, country: v.country.toUpperCase() }, orgs),
  });
  fillOnCode(orgForm, "code", orgs, (o) => o);

  const destinationForm = form({
    id: "destination-form",
    submit: t("form.submit"),
    fields: [
      { name: "locode", label: t("master.locode"), required: true, placeholder: "SDPZU", ltr: true },
      ...nameFields(),
      { name: "iata", label: t("master.iata"), ltr: true },
      { name: "icao", label: t("master.icao"), ltr: true },
      { name: "latitude_deg", label: t("master.lat"), type: "number", step: "any" },
      { name: "longitude_deg", label: t("master.lon"), type: "number", step: "any" },
      { name: "seaport", label: t("master.seaport"), type: "checkbox" },
      { name: "airport", label: t("master.airport"), type: "checkbox", value: true },
    ],
    onSubmit: async (v) =>
      done("/destinations", (code) => `/destinations/${encodeURIComponent(code)}`, "locode", { ...v, locode: v.locode.toUpperCase() }, destinations),
  });
  fillOnCode(destinationForm, "locode", destinations, (d) => ({ ...d, latitude_deg: d.lat, longitude_deg: d.lon }));

  root.append(
    el("h2", t("master.title")),
    el("p.lead", t("master.lead")),
    formCard(t("master.item"), itemForm),
    formCard(t("master.organisation"), orgForm),
    formCard(t("master.destination"), destinationForm)
  );
}
