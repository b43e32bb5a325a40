// The map of flows: donors -> hub (Tartus port, Hmeimim airfield) -> African
// destinations, drawn with d3-geo over the world-atlas 110m countries, from
// every stage of the goods (/api/flows): received and still inbound, at the
// hub, delivered and on the way; figures in kg.

import { api, ref } from "../api.js";
import { t, num, lang } from "../i18n.js";
import { el, svg, dataTable, loading, loadVendor, vendorUrl } from "../ui.js";
import { NUMERIC } from "../countries.js";

// The stages of /api/flows, by where they draw.
const INBOUND = new Set(["in_transit", "received"]);
const AT_HUB = new Set(["at_hub", "between_nodes"]);
const OUTBOUND = new Set(["loaded", "departed", "delivered"]);

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

  // Aggregate the flows by stage (kg): donor country -> node (received, in
  // transit), what is at each node, node -> destination (delivered, on the way).
  const inboundRows = flows.filter((f) => INBOUND.has(f.stage));
  // A recipient sees only the goods on departures to their country: their
  // donors' lines into the hub are drawn from those.
  const sourceRows = inboundRows.length ? inboundRows : flows.filter((f) => OUTBOUND.has(f.stage));
  const inbound = new Map();
  for (const f of sourceRows) {
    const key = `${f.donor_country}|${f.node}`;
    const i = inbound.get(key) || { country: f.donor_country, node: f.node, received: 0, in_transit: 0, donors: new Set() };
    i[f.stage === "in_transit" ? "in_transit" : "received"] += Number(f.weight_kg) || 0;
    i.donors.add(f.donor);
    inbound.set(key, i);
  }
  const hub = new Map();
  for (const f of flows.filter((x) => AT_HUB.has(x.stage))) {
    const h = hub.get(f.node) || { node: f.node, at_hub: 0, between_nodes: 0 };
    h[f.stage] += Number(f.weight_kg) || 0;
    hub.set(f.node, h);
  }
  const outbound = new Map();
  for (const f of flows.filter((x) => OUTBOUND.has(x.stage) && x.destination)) {
    const key = `${f.node}|${f.destination}`;
    const o = outbound.get(key) || { node: f.node, destination: f.destination, delivered: 0, on_the_way: 0 };
    o[f.stage === "delivered" ? "delivered" : "on_the_way"] += Number(f.weight_kg) || 0;
    outbound.set(key, o);
  }
  const maxKg = Math.max(
    1,
    ...[...inbound.values()].map((x) => Math.max(x.received, x.in_transit)),
    ...[...outbound.values()].map((x) => Math.max(x.delivered, x.on_the_way))
  );
  const width = (kg) => 1.2 + 7 * Math.sqrt(kg / maxKg);
  const kg = (value) => t("map.kg", { kg: num(value, 0) });

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
  // Country names in the user's language (the atlas names them in English).
  const alpha = new Map(Object.entries(NUMERIC).map(([a, n]) => [n, a]));
  let regionNames = null;
  try {
    regionNames = new Intl.DisplayNames([lang()], { type: "region" });
  } catch {
    regionNames = null;
  }
  const countryName = (f) => {
    const a = alpha.get(String(f.id));
    return (a && regionNames && regionNames.of(a)) || (lang() === "en" ? f.properties?.name || "" : a || "");
  };
  for (const f of countries.features) {
    const d = path(f);
    if (d) gCountries.append(svg("path", { class: classFor(f), d }, svg("title", {}, countryName(f))));
  }
  map.append(gCountries);

  // One line per stage that carries goods: solid for what arrived, dashed for what is on its way.
  const gFlows = svg("g", { id: "map-flows" });
  const line = (kind, stage, d, value, label) =>
    svg(
      "path",
      { class: `flow ${kind} ${stage}`, d, "stroke-width": width(value).toFixed(2), "data-testid": `flow-${kind}`, "data-stage": stage, "data-kg": value.toFixed(1) },
      svg("title", {}, `${label}: ${t(`map.stage.${stage}`)} ${kg(value)}`)
    );
  for (const i of inbound.values()) {
    const a = anchorOf(i.country);
    const n = nodeByCode.get(i.node);
    if (!a || !n) continue;
    const from = projection(a);
    const to = projection([n.lon, n.lat]);
    const label = `${[...i.donors].join(", ")} → ${n.name || n.code}`;
    if (i.received > 0) gFlows.append(line("inbound", "received", curve(from, to, 0.18), i.received, label));
    if (i.in_transit > 0) gFlows.append(line("inbound", "in_transit", curve(from, to, 0.24), i.in_transit, label));
  }
  for (const o of outbound.values()) {
    const n = nodeByCode.get(o.node);
    const d = destByCode.get(o.destination);
    if (!n || !d || d.lat == null || d.lon == null) continue;
    const from = projection([n.lon, n.lat]);
    const to = projection([d.lon, d.lat]);
    const label = `${n.name || n.code} → ${d.name}`;
    if (o.delivered > 0) gFlows.append(line("outbound", "delivered", curve(from, to, -0.12), o.delivered, label));
    if (o.on_the_way > 0) gFlows.append(line("outbound", "on_the_way", curve(from, to, -0.18), o.on_the_way, label));
  }
  map.append(gFlows);

  // Markers, then their labels (placed once the map is on the page and the text can be measured).
  const labels = [];
  const gDonors = svg("g", { id: "map-donors" });
  for (const c of donorCountries) {
    const a = anchorOf(c);
    if (!a) continue;
    const [x, y] = projection(a);
    const names = organisations.filter((o) => o.country === c && o.kind === "donor").map((o) => o.code);
    gDonors.append(
      svg("circle", { class: "donor-marker", cx: x.toFixed(1), cy: y.toFixed(1), r: 6, "data-testid": "donor-marker", "data-country": c },
        svg("title", {}, names.length ? names.join(", ") : c))
    );
    labels.push({ group: gDonors, x, y, r: 6, text: c });
  }
  map.append(gDonors);

  const gHub = svg("g", { id: "map-hub" });
  for (const n of nodeByCode.values()) {
    const [x, y] = projection([n.lon, n.lat]);
    const h = hub.get(n.code);
    const here = h ? ` — ${t("map.stage.at_hub")} ${kg(h.at_hub)}` : "";
    gHub.append(
      svg("rect", {
        class: "hub-marker", x: (x - 6).toFixed(1), y: (y - 6).toFixed(1), width: 12, height: 12,
        transform: `rotate(45 ${x.toFixed(1)} ${y.toFixed(1)})`, "data-testid": "hub-marker", "data-node": n.code,
      }, svg("title", {}, `${n.name || n.code}${here}`))
    );
  }
  const hubPoints = [...nodeByCode.values()].map((n) => projection([n.lon, n.lat]));
  if (hubPoints.length) {
    // The hub's label stands for both nodes: placed around the point between them, clear of both.
    const hx = hubPoints.reduce((s, p) => s + p[0], 0) / hubPoints.length;
    const hy = hubPoints.reduce((s, p) => s + p[1], 0) / hubPoints.length;
    const spread = Math.max(...hubPoints.map((p) => Math.hypot(p[0] - hx, p[1] - hy)));
    labels.unshift({ group: gHub, x: hx, y: hy, r: spread + 9, text: t("map.hub_label"), bold: true });
  }
  map.append(gHub);

  const gDest = svg("g", { id: "map-destinations" });
  for (const d of destinations) {
    if (d.lat == null || d.lon == null) continue;
    const [x, y] = projection([d.lon, d.lat]);
    const out = [...outbound.values()].filter((o) => o.destination === d.locode);
    const delivered = out.reduce((s, o) => s + o.delivered, 0);
    gDest.append(
      svg("circle", {
        class: "dest-marker", cx: x.toFixed(1), cy: y.toFixed(1), r: 7, "data-testid": "destination-marker", "data-locode": d.locode,
      }, svg("title", {}, `${d.name} (${d.locode})${delivered ? ` — ${t("map.stage.delivered")} ${kg(delivered)}` : ""}`))
    );
    labels.push({ group: gDest, x, y, r: 7, text: d.name });
  }
  map.append(gDest);

  const legend = el(
    "div.legend",
    el("span", el("i", { style: "background:#2b7a3d" }), t("map.legend_donor")),
    el("span", el("i", { style: "background:#5b2a86" }), t("map.legend_hub")),
    el("span", el("i", { style: "background:#b3450e;border-radius:50%" }), t("map.legend_destination")),
    el("span", el("i.dashed"), t("map.legend_on_the_way"))
  );
  mapCard.append(map, legend);
  placeLabels(map, labels, W, H);

  const sum = (stages, pick) => flows.filter((f) => stages.includes(f.stage) && pick(f)).reduce((s, f) => s + (Number(f.weight_kg) || 0), 0);
  const kgCell = (key, label) => ({ key, label, num: 0, render: (r) => num(r[key], 0) });
  const destRows = destinations
    .map((d) => ({
      name: d.name,
      locode: d.locode,
      delivered: sum(["delivered"], (f) => f.destination === d.locode),
      on_the_way: sum(["loaded", "departed"], (f) => f.destination === d.locode),
    }))
    .sort((a, b) => b.delivered + b.on_the_way - (a.delivered + a.on_the_way) || a.name.localeCompare(b.name));
  const hubRows = [...nodeByCode.values()].map((n) => ({
    node: n.name || n.code,
    at_hub: sum(["at_hub"], (f) => f.node === n.code),
    between_nodes: sum(["between_nodes"], (f) => f.node === n.code),
  }));
  const donorRows = [...new Set(flows.map((f) => f.donor))]
    .map((donor) => ({
      donor,
      pledged: sum(["pledged"], (f) => f.donor === donor),
      in_transit: sum(["in_transit"], (f) => f.donor === donor),
      received: sum(["received"], (f) => f.donor === donor),
      at_hub: sum(["at_hub", "between_nodes"], (f) => f.donor === donor),
    }))
    .filter((r) => r.pledged || r.in_transit || r.received || r.at_hub)
    .sort((a, b) => b.received - a.received || a.donor.localeCompare(b.donor));

  side.append(
    el(
      "div",
      el(
        "div.card",
        el("h2", t("map.destinations")),
        dataTable(
          [
            { key: "name", label: t("col.destination"), render: (r) => el("span", r.name, " ", el("code.muted", r.locode)) },
            kgCell("delivered", t("map.delivered_kg")),
            kgCell("on_the_way", t("map.on_the_way_kg")),
          ],
          destRows,
          { testid: "map-destination-table" }
        )
      ),
      hubRows.some((r) => r.at_hub || r.between_nodes)
        ? el(
            "div.card",
            el("h2", t("map.hub")),
            dataTable(
              [{ key: "node", label: t("col.node") }, kgCell("at_hub", t("map.at_hub_kg")), kgCell("between_nodes", t("map.between_nodes_kg"))],
              hubRows,
              { testid: "map-hub-table" }
            )
          )
        : null,
      donorRows.length
        ? el(
            "div.card",
            el("h2", t("map.donors")),
            dataTable(
              [
                { key: "donor", label: t("col.donor"), render: (r) => el("code", r.donor) },
                kgCell("received", t("map.received_kg")),
                kgCell("in_transit", t("map.in_transit_kg")),
                kgCell("at_hub", t("map.at_hub_kg")),
                kgCell("pledged", t("map.pledged_kg")),
              ],
              donorRows,
              { testid: "map-donor-table", rowTestid: "map-donor-row" }
            )
          )
        : null
    )
  );
}

/**
 * Places each label beside its marker where it covers no marker and, if it
 * can, no other label: right, left, above, below, then further out. The
 * text is centred on the box chosen (`text-anchor: middle`), so the place
 * does not depend on the writing direction (Arabic labels stay clear too).
 */
function placeLabels(map, labels, W, H) {
  const markers = [...map.querySelectorAll(".donor-marker, .dest-marker, .hub-marker")].map((m) => {
    if (m.tagName === "circle") {
      const cx = Number(m.getAttribute("cx"));
      const cy = Number(m.getAttribute("cy"));
      const r = Number(m.getAttribute("r")) + 1;
      return { x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r };
    }
    // A 12 px square turned 45°: 8.5 px each way from its centre, and its stroke.
    const cx = Number(m.getAttribute("x")) + 6;
    const cy = Number(m.getAttribute("y")) + 6;
    return { x0: cx - 9.5, y0: cy - 9.5, x1: cx + 9.5, y1: cy + 9.5 };
  });
  const overlap = (a, b) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const placed = [];
  for (const l of labels) {
    const text = svg("text", { x: 0, y: 0, "text-anchor": "middle", "font-weight": l.bold ? 700 : null, "data-testid": "map-label" }, l.text);
    l.group.append(text);
    const box = text.getBBox();
    const w = box.width;
    const h = box.height;
    const gap = 3;
    const tries = [];
    for (const step of [0, 1, 2, 3]) {
      const far = step * (h + 2);
      tries.push(
        { x0: l.x + l.r + gap + far, y0: l.y - h / 2 },
        { x0: l.x - l.r - gap - w - far, y0: l.y - h / 2 },
        { x0: l.x - w / 2, y0: l.y - l.r - gap - h - far },
        { x0: l.x - w / 2, y0: l.y + l.r + gap + far },
        { x0: l.x + l.r + gap, y0: l.y - h / 2 - (step + 1) * h },
        { x0: l.x + l.r + gap, y0: l.y - h / 2 + (step + 1) * h },
        { x0: l.x - l.r - gap - w, y0: l.y - h / 2 - (step + 1) * h },
        { x0: l.x - l.r - gap - w, y0: l.y - h / 2 + (step + 1) * h }
      );
    }
    const score = (p) => {
      const b = { x0: p.x0, y0: p.y0, x1: p.x0 + w, y1: p.y0 + h };
      const outside = b.x0 < 0 || b.y0 < 0 || b.x1 > W || b.y1 > H ? 1 : 0;
      const onMarkers = markers.reduce((s, m) => s + overlap(b, m), 0);
      const onLabels = placed.reduce((s, o) => s + overlap(b, o), 0);
      return { b, cost: onMarkers * 1e6 + outside * 1e4 + onLabels };
    };
    let best = null;
    for (const p of tries) {
      const c = score(p);
      if (!best || c.cost < best.cost) best = c;
      if (c.cost === 0) break;
    }
    placed.push(best.b);
    text.setAttribute("x", (best.b.x0 + w / 2).toFixed(1));
    text.setAttribute("y", (best.b.y0 - box.y).toFixed(1));
  }
}
