// The map of flows: donors -> hub (Tartus port, Hmeimim airfield) -> African
// destinations, drawn with d3-geo over the world-atlas 110m countries.

import { api, ref } from "../api.js";
import { t, num } from "../i18n.js";
import { el, svg, dataTable, loading, loadVendor, vendorUrl } from "../ui.js";
import { NUMERIC } from "../countries.js";

// Where a donor country's flows start: its main port or capital (lon, lat).
// Countries not listed start at the centroid of their shape.
const ANCHOR = {
  RU: [37.8, 44.7], AE: [55.3, 25.2], SA: [39.2, 21.5], QA: [51.5, 25.3], KW: [48.0, 29.4], TR: [32.9, 39.9],
  EG: [31.2, 30.0], JO: [35.9, 31.9], OM: [58.4, 23.6], BH: [50.6, 26.2], IQ: [44.4, 33.3], IR: [51.4, 35.7],
  CN: [60.0, 40.0], IN: [60.0, 22.0], KZ: [55.0, 47.0], BY: [27.6, 53.9], DE: [13.4, 52.5], FR: [2.35, 48.9],
  GB: [-0.1, 51.5], IT: [12.5, 41.9], US: [-20.0, 38.0], JP: [60.0, 35.0],
};

// The part of the world the map shows: Africa, the Middle East and the donors' side of Europe.
const EXTENT = { type: "MultiPoint", coordinates: [[-18, -12], [60, -12], [60, 47], [-18, 47]] };

let atlas = null;
async function loadAtlas() {
  if (!atlas) {
    const res = await fetch(vendorUrl("world-atlas/countries-110m.json"));
    if (!res.ok) throw new Error("world atlas missing");
    atlas = await res.json();
  }
  return atlas;
}

function curve(a, b, bend) {
  const mx = (a[0] + b[0]) / 2;
  const my = (a[1] + b[1]) / 2;
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const cx = mx - dy * bend;
  const cy = my + dx * bend;
  return `M${a[0].toFixed(1)},${a[1].toFixed(1)}Q${cx.toFixed(1)},${cy.toFixed(1)} ${b[0].toFixed(1)},${b[1].toFixed(1)}`;
}

export async function renderMap(root, ctx) {
  const role = ctx.user.role;
  const lead = role === "donor" ? "map.lead_donor" : role === "recipient" ? "map.lead_recipient" : "map.lead";
  root.append(el("h1", t("map.title")), el("p.lead", t(lead)), loading());
  const [flows, destinations, nodes, world] = await Promise.all([
    api.get("/flows"),
    ref("/destinations"),
    ref("/nodes"),
    loadAtlas(),
    loadVendor("d3-array/d3-array.min.js", "d3-geo/d3-geo.min.js", "topojson-client/topojson-client.min.js"),
  ]);
  let organisations = [];
  try {
    organisations = await ref("/organisations");
  } catch {
    // Names are a nicety; codes are shown without them.
  }
  if (!ctx.isCurrent()) return;
  root.querySelector(".loading")?.remove();
  const d3 = window.d3;
  const topojson = window.topojson;
  if (!d3 || !d3.geoPath || !topojson) throw new Error(t("map.libraries_missing"));

  const countries = topojson.feature(world, world.objects.countries);
  // The drawing fills the space the screen gives it, so text and markers keep their size.
  const mapCard = el("div.card.map-card");
  const side = el("div");
  root.append(el("div.map-layout", mapCard, side));
  const W = Math.max(320, Math.round(mapCard.clientWidth - 16 || 900));
  const top = mapCard.getBoundingClientRect().top + window.scrollY;
  const H = Math.round(Math.min(900, Math.max(380, Math.min(W * 0.95, window.innerHeight - top - 56))));
  const projection = d3.geoMercator().fitExtent([[10, 10], [W - 10, H - 10]], EXTENT);
  const path = d3.geoPath(projection);

  const featureById = new Map(countries.features.map((f) => [String(f.id), f]));
  const destCountries = new Set(destinations.map((d) => d.country || d.locode.slice(0, 2)));
  const donorCountries = new Set(flows.map((f) => f.donor_country).filter(Boolean));
  const hubCountry = NUMERIC.SY;
  const classFor = (f) => {
    const id = String(f.id);
    if (id === hubCountry) return "country hub-country";
    for (const c of destCountries) if (NUMERIC[c] === id) return "country dest-country";
    for (const c of donorCountries) if (NUMERIC[c] === id) return "country donor-country";
    return "country";
  };

  const anchorOf = (country) => {
    if (ANCHOR[country]) return ANCHOR[country];
    const f = featureById.get(NUMERIC[country]);
    return f ? d3.geoCentroid(f) : null;
  };
  const nodeByCode = new Map(nodes.filter((n) => n.lat != null && n.lon != null).map((n) => [n.code, n]));
  const destByCode = new Map(destinations.map((d) => [d.locode, d]));

  // Aggregate flows: donor country -> node, node -> destination.
  const inbound = new Map();
  const outbound = new Map();
  for (const f of flows) {
    const kg = Number(f.weight_kg) || 0;
    const units = Number(f.units) || 0;
    const ik = `${f.donor_country}|${f.node}`;
    const i = inbound.get(ik) || { country: f.donor_country, node: f.node, kg: 0, units: 0, donors: new Set() };
    i.kg += kg;
    i.units += units;
    i.donors.add(f.donor);
    inbound.set(ik, i);
    if (f.destination) {
      const ok = `${f.node}|${f.destination}`;
      const o = outbound.get(ok) || { node: f.node, destination: f.destination, kg: 0, units: 0 };
      o.kg += kg;
      o.units += units;
      outbound.set(ok, o);
    }
  }
  const maxKg = Math.max(1, ...[...inbound.values(), ...outbound.values()].map((x) => x.kg));
  const width = (kg) => 1.2 + 7 * Math.sqrt(kg / maxKg);

  const title = svg("title", { id: "map-title" }, t("map.title"));
  const desc = svg(
    "desc",
    { id: "map-desc" },
    t("map.description", { destinations: destinations.length, flows: flows.length })
  );
  const map = svg("svg", {
    id: "flow-map",
    class: "map-svg",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-labelledby": "map-title map-desc",
    "data-testid": "flow-map",
  });
  map.append(title, desc);
  const gCountries = svg("g", { id: "map-countries" });
  gCountries.append(svg("path", { class: "graticule", d: path(d3.geoGraticule10()) }));
  for (const f of countries.features) {
    const d = path(f);
    if (d) gCountries.append(svg("path", { class: classFor(f), d }, svg("title", {}, f.properties?.name || "")));
  }
  map.append(gCountries);

  const gFlows = svg("g", { id: "map-flows" });
  for (const i of inbound.values()) {
    const a = anchorOf(i.country);
    const n = nodeByCode.get(i.node);
    if (!a || !n) continue;
    const pa = projection(a);
    const pb = projection([n.lon, n.lat]);
    gFlows.append(
      svg(
        "path",
        { class: "flow inbound", d: curve(pa, pb, 0.18), "stroke-width": width(i.kg).toFixed(2), "data-testid": "flow-inbound" },
        svg("title", {}, `${[...i.donors].join(", ")} → ${n.name || n.code}: ${num(i.kg / 1000, 1)} t`)
      )
    );
  }
  for (const o of outbound.values()) {
    const n = nodeByCode.get(o.node);
    const d = destByCode.get(o.destination);
    if (!n || !d || d.lat == null || d.lon == null) continue;
    gFlows.append(
      svg(
        "path",
        {
          class: "flow outbound",
          d: curve(projection([n.lon, n.lat]), projection([d.lon, d.lat]), -0.12),
          "stroke-width": width(o.kg).toFixed(2),
          "data-testid": "flow-outbound",
        },
        svg("title", {}, `${n.name || n.code} → ${d.name}: ${num(o.kg / 1000, 1)} t`)
      )
    );
  }
  map.append(gFlows);

  const gDonors = svg("g", { id: "map-donors" });
  for (const c of donorCountries) {
    const a = anchorOf(c);
    if (!a) continue;
    const [x, y] = projection(a);
    const names = organisations.filter((o) => o.country === c && o.kind === "donor").map((o) => o.code);
    gDonors.append(
      svg("circle", { class: "donor-marker", cx: x.toFixed(1), cy: y.toFixed(1), r: 6, "data-testid": "donor-marker", "data-country": c },
        svg("title", {}, names.length ? names.join(", ") : c)),
      svg("text", { x: (x + 8).toFixed(1), y: (y + 4).toFixed(1) }, c)
    );
  }
  map.append(gDonors);

  const gHub = svg("g", { id: "map-hub" });
  for (const n of nodeByCode.values()) {
    const [x, y] = projection([n.lon, n.lat]);
    gHub.append(
      svg("rect", {
        class: "hub-marker", x: (x - 6).toFixed(1), y: (y - 6).toFixed(1), width: 12, height: 12,
        transform: `rotate(45 ${x.toFixed(1)} ${y.toFixed(1)})`, "data-testid": "hub-marker", "data-node": n.code,
      }, svg("title", {}, n.name || n.code))
    );
  }
  const hubPoints = [...nodeByCode.values()].map((n) => projection([n.lon, n.lat]));
  if (hubPoints.length) {
    const [hx, hy] = hubPoints[0];
    gHub.append(svg("text", { x: (hx + 10).toFixed(1), y: (hy + 16).toFixed(1), "font-weight": 700 }, t("map.hub_label")));
  }
  map.append(gHub);

  const gDest = svg("g", { id: "map-destinations" });
  for (const d of destinations) {
    if (d.lat == null || d.lon == null) continue;
    const [x, y] = projection([d.lon, d.lat]);
    const kg = [...outbound.values()].filter((o) => o.destination === d.locode).reduce((s, o) => s + o.kg, 0);
    gDest.append(
      svg("circle", {
        class: "dest-marker", cx: x.toFixed(1), cy: y.toFixed(1), r: 7, "data-testid": "destination-marker", "data-locode": d.locode,
      }, svg("title", {}, `${d.name} (${d.locode})${kg ? ` — ${num(kg / 1000, 1)} t` : ""}`)),
      svg("text", { x: (x + 9).toFixed(1), y: (y + 4).toFixed(1) }, d.name)
    );
  }
  map.append(gDest);

  const legend = el(
    "div.legend",
    el("span", el("i", { style: "background:#2b7a3d" }), t("map.legend_donor")),
    el("span", el("i", { style: "background:#5b2a86" }), t("map.legend_hub")),
    el("span", el("i", { style: "background:#b3450e;border-radius:50%" }), t("map.legend_destination"))
  );

  const byDest = [...outbound.values()]
    .reduce((m, o) => m.set(o.destination, (m.get(o.destination) || 0) + o.kg), new Map());
  const destRows = destinations
    .map((d) => ({ name: d.name, locode: d.locode, kg: byDest.get(d.locode) || 0 }))
    .sort((a, b) => b.kg - a.kg);
  const byDonor = new Map();
  for (const f of flows) byDonor.set(f.donor, (byDonor.get(f.donor) || 0) + (Number(f.weight_kg) || 0));
  const donorRows = [...byDonor].map(([donor, kg]) => ({ donor, kg })).sort((a, b) => b.kg - a.kg);

  mapCard.append(map, legend);
  side.append(
      el(
        "div",
        el(
          "div.card",
          el("h2", t("map.destinations")),
          dataTable(
            [
              { key: "name", label: t("col.destination"), render: (r) => el("span", r.name, " ", el("code.muted", r.locode)) },
              { key: "kg", label: t("map.shipped_t"), num: 1, render: (r) => num(r.kg / 1000, 1) },
            ],
            destRows,
            { testid: "map-destination-table" }
          )
        ),
        donorRows.length
          ? el(
              "div.card",
              el("h2", t("map.donors")),
              dataTable(
                [
                  { key: "donor", label: t("col.donor"), render: (r) => el("code", r.donor) },
                  { key: "kg", label: t("map.weight_t"), num: 1, render: (r) => num(r.kg / 1000, 1) },
                ],
                donorRows
              )
            )
          : null
      )
  );
}
