import { api, saveSession } from "../api.js";
import { t } from "../i18n.js";
import { el, errorBox } from "../ui.js";

export function renderLogin(onSignedIn) {
  const message = el("div", { "aria-live": "assertive" });
  const user = el("input#login-username", { name: "username", autocomplete: "username", required: true, "data-testid": "login-username" });
  const pass = el("input#login-password", {
    name: "password", type: "password", autocomplete: "current-password", required: true, "data-testid": "login-password",
  });
  const submit = el("button.btn", { type: "submit", "data-testid": "login-submit" }, t("login.submit"));
  const form = el(
    "form.login",
    { "data-testid": "login-form", novalidate: true },
    el("h1", t("login.title")),
    el("p.muted", t("login.intro")),
    message,
    el("div.field", el("label", { for: "login-username" }, t("login.username")), user),
    el("div.field", el("label", { for: "login-password" }, t("login.password")), pass),
    submit,
    el("p.hint", t("login.hint"))
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.replaceChildren();
    if (!user.value || !pass.value) {
      message.append(errorBox({ message: t("login.missing") }));
      return;
    }
    submit.disabled = true;
    try {
      const r = await api.post("/login", { username: user.value.trim(), password: pass.value });
      saveSession(r.token, r.user || {});
      if (!r.user) saveSession(r.token, await api.get("/me"));
      onSignedIn();
    } catch (err) {
      pass.value = "";
      message.append(
        errorBox(err.status === 401 ? { message: t("login.failed") } : err.status === 429 ? { message: t("login.throttled") } : err)
      );
      pass.focus();
    } finally {
      submit.disabled = false;
    }
  });
  setTimeout(() => user.focus(), 0);
  return el("div.login-wrap", form);
}
