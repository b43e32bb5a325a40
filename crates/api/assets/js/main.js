// The dashboard shell: language, sign-in, role-aware navigation and a hash router.

import { api, session, clearSession, setUnauthorizedHandler } from "./api.js";
import { setLanguage, preferredLanguage, t, lang } from "./i18n.js";
import { el, errorBox } from "./ui.js";
import { renderLogin } from "./views/login.js";
import { renderStock } from "./views/stock.js";
import { renderPipeline } from "./views/pipeline.js";
import { renderRequests } from "./views/requests.js";
import { renderMap } from "./views/map.js";
import { renderPlan } from "./views/plan.js";
import { renderJourney } from "./views/journey.js";
import { renderLog } from "./views/log.js";
import { renderWhatIf } from "./views/whatif.js";
import { renderToday } from "./views/today.js";
import { renderLegs } from "./views/legs.js";
import { renderTransfers } from "./views/transfers.js";
import { renderDepartures } from "./views/departures.js";
import { renderPledges } from "./views/pledges.js";
import { renderDocuments } from "./views/documents.js";
import { renderAdmin } from "./views/admin.js";

// Script errors are kept for the end-to-end test (and for anyone opening the console).
window.__reliefhubErrors = window.__reliefhubErrors || [];
window.addEventListener("error", (e) => window.__reliefhubErrors.push(String(e.message || e)));
window.addEventListener("unhandledrejection", (e) => window.__reliefhubErrors.push(String(e.reason?.message || e.reason)));
// A policy violation (a blocked script, style or request) is an error too.
document.addEventListener("securitypolicyviolation", (e) => window.__reliefhubErrors.push(`CSP ${e.violatedDirective}: ${e.blockedURI}`));

const HUB = ["admin", "operator", "auditor"];

// Views, in navigation order, with the roles that see them.
const VIEWS = [
  { id: "today", label: "nav.today", roles: HUB, render: renderToday },
  { id: "journey", label: "nav.journey", roles: ["donor"], render: renderJourney },
  { id: "stock", label: "nav.stock", roles: [...HUB, "donor"], render: renderStock },
  { id: "pipeline", label: "nav.pipeline", roles: [...HUB, "donor"], render: renderPipeline },
  { id: "legs", label: "nav.legs", roles: [...HUB, "donor"], render: renderLegs },
  { id: "transfers", label: "nav.transfers", roles: HUB, render: renderTransfers },
  { id: "requests", label: "nav.requests", roles: [...HUB, "recipient"], render: renderRequests },
  { id: "plan", label: "nav.plan", roles: HUB, render: renderPlan },
  { id: "log", label: "nav.log", roles: [...HUB, "donor", "recipient"], render: renderLog },
  { id: "whatif", label: "nav.whatif", roles: ["admin", "operator"], render: renderWhatIf },
  { id: "departures", label: "nav.departures", roles: [...HUB, "donor", "recipient"], render: renderDepartures },
  { id: "pledges", label: "nav.pledges", roles: [...HUB, "donor"], render: renderPledges },
  { id: "documents", label: "nav.documents", roles: [...HUB, "donor", "recipient"], render: renderDocuments },
  { id: "map", label: "nav.map", roles: [...HUB, "donor", "recipient"], render: renderMap },
  { id: "admin", label: "nav.admin", roles: ["admin", "operator"], render: renderAdmin },
];

const HOME = { donor: "journey", recipient: "requests" };

function viewsFor(role) {
  return VIEWS.filter((v) => v.roles.includes(role));
}

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  return hash.split("?")[0] || "";
}

export function go(id) {
  if (route() === id) render();
  else location.hash = `#/${id}`;
}

function renderNav(user) {
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    ...viewsFor(user.role).map((v) =>
      el("a", { href: `#/${v.id}`, "data-testid": `nav-${v.id}`, "aria-current": route() === v.id ? "page" : null }, t(v.label))
    )
  );
  const who = [user.username, t(`role.${user.role}`)];
  if (user.organisation) who.push(user.organisation);
  if (user.country) who.push(user.country);
  document.getElementById("who").textContent = who.join(" · ");
}

let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById("main");
  const s = session();
  const topbar = document.getElementById("topbar");
  // The language picker sits in the top bar when signed in, in the corner otherwise.
  const langbar = document.querySelector(".langbar");
  if (s) document.querySelector(".session").prepend(langbar);
  else document.body.insertBefore(langbar, main);
  if (!s) {
    topbar.hidden = true;
    document.body.classList.remove("signed-in");
    document.title = `${t("login.title")} — reliefhub`;
    main.replaceChildren(renderLogin(() => go(HOME[session()?.user.role] || "stock")));
    return;
  }
  topbar.hidden = false;
  document.body.classList.add("signed-in");
  const allowed = viewsFor(s.user.role);
  let view = allowed.find((v) => v.id === route());
  if (!view) {
    const home = allowed.find((v) => v.id === (HOME[s.user.role] || "stock")) || allowed[0];
    if (!home) {
      main.replaceChildren(el("p", t("app.no_views")));
      return;
    }
    history.replaceState(null, "", `#/${home.id}`);
    view = home;
  }
  renderNav(s.user);
  document.title = `${t(view.label)} — reliefhub`;
  const container = el("section", { "data-view": view.id, "aria-live": "polite" });
  main.replaceChildren(container);
  try {
    await view.render(container, { user: s.user, isCurrent: () => seq === renderSeq, rerender: render });
  } catch (err) {
    if (seq === renderSeq) container.append(errorBox(err));
  }
  if (seq === renderSeq) {
    main.dataset.ready = view.id;
    // After navigating, move focus to the new view so screen readers announce it.
    if (focusOnRender) main.focus({ preventScroll: true });
  }
}

let focusOnRender = false;

async function start() {
  const picker = document.getElementById("lang");
  await setLanguage(preferredLanguage());
  picker.value = lang();
  picker.addEventListener("change", async () => {
    await setLanguage(picker.value);
    render();
  });
  setUnauthorizedHandler(() => render());
  document.getElementById("logout").addEventListener("click", async () => {
    try {
      await api.post("/logout");
    } catch {
      // The token is dropped locally whatever the server says.
    }
    clearSession();
    location.hash = "";
    render();
  });
  window.addEventListener("hashchange", () => {
    focusOnRender = true;
    render();
  });
  await render();
}

start();
