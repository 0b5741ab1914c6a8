// "Your account": change your password, sign out of every device; for an admin, reset a
// colleague's password (they choose a new one when they next sign in). Online only: these
// are answered by the server, never queued on the phone.
import { h, fill, screenTitle, button, showErrors, insetText, summaryList, emptyState } from "./common.js";
import { me } from "./data.js";
import * as api from "../api.js";
import * as sync from "../sync.js";
import * as session from "../session.js";

const ERROR_FIELD = { "body.current_password": "current-password", "body.new_password": "new-password" };

function passwordInput(id, autocomplete) {
  return h("input", { class: "hs-input", id, name: id, type: "password", autocomplete, "data-testid": id });
}

function group(label, input, hint) {
  return h("div", { class: "hs-form-group" },
    h("label", { class: "hs-label", for: input.id }, label),
    hint ? h("div", { class: "hs-hint", id: `${input.id}-hint` }, hint) : null,
    input);
}

function problems(err) {
  const list = (err.errors || []).map((e) => ({ text: e.message === "is not right" ? "Your current password is not right." : e.message,
    href: ERROR_FIELD[e.field] ? `#${ERROR_FIELD[e.field]}` : undefined }));
  return list.length ? list : [{ text: err.message || "That did not work." }];
}

function changePasswordForm() {
  const current = passwordInput("current-password", "current-password");
  const next = passwordInput("new-password", "new-password");
  const again = passwordInput("confirm-password", "new-password");
  next.setAttribute("aria-describedby", "new-password-hint");
  const errors = h("div");
  const status = h("p", { class: "hs-body", role: "status", "aria-live": "polite", "data-testid": "password-status" });
  const submit = h("button", { class: "hs-button", type: "submit", "data-testid": "change-password" }, "Change password");
  const form = h("form", { class: "hs-form", novalidate: true },
    group("Current password", current),
    group("New password", next, "At least 12 characters. Three or four unrelated words are strong and easy to remember."),
    group("Type the new password again", again), submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    status.textContent = "";
    const empty = [[current, "Enter your current password"], [next, "Enter a new password"]].filter(([el]) => !el.value);
    if (empty.length) { showErrors(errors, empty.map(([el, text]) => ({ text, href: `#${el.id}`, target: el }))); return; }
    if (next.value !== again.value) { showErrors(errors, [{ text: "The two new passwords do not match.", href: "#confirm-password", target: again }]); return; }
    if (!navigator.onLine) { showErrors(errors, [{ text: "You need a connection to change your password." }]); return; }
    submit.disabled = true;
    try {
      const r = await api.post("/api/v1/me/password", { current_password: current.value, new_password: next.value });
      const others = r.other_sessions_ended ? " You have been signed out on your other devices." : "";
      status.textContent = `Your password has been changed.${others}`;
      form.reset();
      showErrors(errors, []);
    } catch (err) {
      showErrors(errors, problems(err));
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { "aria-labelledby": "change-password-title" },
    h("h2", { class: "hs-h2", id: "change-password-title" }, "Change your password"), errors, form, status);
}

function signOutEverywhere() {
  const status = h("p", { class: "hs-body", role: "status", "aria-live": "polite", "data-testid": "sign-out-status" });
  const act = button("Sign out of all my devices", async () => {
    try {
      const r = await api.post("/api/v1/me/sign-out-everywhere", {});
      status.textContent = `Signed out on ${r.devices_signed_out} ${r.devices_signed_out === 1 ? "device" : "devices"}. Your unsent work stays on this phone: sign in again to send it.`;
    } catch (err) {
      status.textContent = err.message || "That did not work.";
    }
  }, { warning: true, "data-testid": "sign-out-everywhere" });
  return h("section", { "aria-labelledby": "sign-out-title" },
    h("h2", { class: "hs-h2", id: "sign-out-title" }, "Lost a phone, or signed in somewhere else?"),
    h("p", { class: "hs-body" }, "This ends your sign-in on every device, this one too. Ask an admin to revoke a lost phone as well."),
    act, status);
}

// Signing out removes Hearthside's data from this phone (a shared or handed-back phone should
// not keep it, even encrypted), so it waits until nothing is left to send: nothing is lost.
function signOutHere() {
  const slot = h("div", {});
  const status = h("p", { class: "hs-body", role: "status", "aria-live": "polite", "data-testid": "sign-out-here-status" });
  // A conflict or a held change is on the server already; anything else would be lost.
  const unsent = () => sync.outbox().filter((o) => o.status !== "conflict" && o.status !== "held").length;
  const really = button("Yes, sign out and remove Hearthside from this phone", async () => {
    if (unsent()) { showErrors(slot, [{ text: waiting(unsent()) }]); really.hidden = true; return; }
    await api.post("/api/v1/auth/logout", {}).catch(() => null); // offline: the phone forgets its tokens all the same
    await session.wipe();
  }, { warning: true, hidden: true, "data-testid": "confirm-sign-out" });
  const waiting = (n) => `${n} ${n === 1 ? "change has" : "changes have"} not reached the server yet. Open Sync and send ${n === 1 ? "it" : "them"} first, so nothing is lost.`;
  const act = button("Sign out of this phone", async () => {
    if (unsent()) { showErrors(slot, [{ text: waiting(unsent()) }]); return; }
    showErrors(slot, []);
    status.textContent = "Signing out removes every record Hearthside keeps on this phone. You can sign in again at any time.";
    really.hidden = false;
    really.focus();
  }, { secondary: true, "data-testid": "sign-out" });
  return h("section", { "aria-labelledby": "sign-out-here-title" },
    h("h2", { class: "hs-h2", id: "sign-out-here-title" }, "Sign out of this phone"),
    slot,
    h("p", { class: "hs-body" }, "For a phone you are handing back or sharing. Your work must be sent first."),
    act, status, really);
}

async function resetPasswords(user) {
  const slot = h("div", { "data-testid": "reset-result" });
  let users = [];
  try { users = await api.get("/api/v1/users"); } catch (err) { return h("p", { class: "hs-body" }, err.message); }
  const rows = users.filter((u) => u.id !== user.user_id && !u.disabled).map((u) => [
    u.display_name,
    u.must_change_password ? "Must choose a new password" : u.role,
    button("Reset password", async () => {
      try {
        const r = await api.post(`/api/v1/users/${encodeURIComponent(u.id)}/password-reset`, {});
        slot.replaceChildren(insetText(
          h("p", { class: "hs-body" }, `One-time password for ${u.display_name}: `,
            h("strong", { "data-testid": "temporary-password" }, r.temporary_password)),
          h("p", { class: "hs-hint" }, "Give it to them by phone or in person, never by email. It works once: they choose a new password when they sign in. Their devices have been signed out.")));
      } catch (err) {
        showErrors(slot, [{ text: err.message || "That did not work." }]);
      }
    }, { secondary: true, "data-testid": `reset-${u.username}` }),
  ]);
  return h("section", { "aria-labelledby": "reset-title" },
    h("h2", { class: "hs-h2", id: "reset-title" }, "Reset a colleague's password"),
    slot, rows.length ? summaryList(rows, { "data-testid": "reset-users" }) : emptyState("No one else in your agency."));
}

export async function render(root) {
  const user = await me();
  fill(root, ...screenTitle("Your account"),
    user ? h("p", { class: "hs-body" }, `Signed in as ${user.display_name} (${user.username}).`) : null,
    changePasswordForm(), signOutHere(), signOutEverywhere(),
    user && user.role === "admin" ? await resetPasswords(user) : null);
}
