// The last step before a visit is signed: a panel that restates what signing will raise
// (each flag to the supervisor, each follow-up, about whom and for whom), so nobody signs
// a record without seeing what it sets going. Signing happens only from its own button.
import { h, button, fmtDay, personName, severityLabel } from "./common.js";

export function confirmSigning(outcome, byId, { onConfirm, onCancel, noAccess = false }) {
  const who = (id) => (id ? personName(byId.get(id)) : "the whole family");
  const flags = (outcome && outcome.flags) || [];
  const followUps = (outcome && outcome.follow_ups) || [];
  const raised = !outcome
    ? [h("p", { class: "hs-body" }, "This phone cannot work out what the visit will raise; the server works it out when the visit is sent.")]
    : flags.length || followUps.length
      ? [h("ul", { class: "hs-list hs-list--bullet", "data-testid": "confirm-raises" },
          flags.map((f) => h("li", { "data-testid": "confirm-flag" }, `${severityLabel(f.severity)} flag to your supervisor: ${f.reason} (about ${who(f.subject)})`)),
          followUps.map((f) => h("li", { "data-testid": "confirm-followup" },
            `Follow-up for ${f.assignee === "supervisor" ? "the supervisor" : "you"}: ${f.text} (about ${who(f.subject)}, due ${f.due_in_days === 0 ? "today" : fmtDay(f.due)})`)))]
      : [h("p", { class: "hs-body", "data-testid": "confirm-raises" }, "Nothing: no flag and no follow-up.")];
  const panel = h("div", { class: "hs-warning", role: "region", "aria-labelledby": "confirm-sign-title", "data-testid": "sign-confirmation" },
    h("h2", { class: "hs-warning__title", id: "confirm-sign-title", tabindex: "-1" }, noAccess ? "Sign this no-access visit?" : "Sign this visit?"),
    h("p", { class: "hs-body" }, "After signing the record cannot be changed; corrections are added as addenda. Signing will raise:"),
    ...raised,
    h("div", { class: "hs-button-group" },
      button("Yes, sign the visit", onConfirm, { "data-testid": "confirm-sign" }),
      button("Not yet", onCancel, { secondary: true, "data-testid": "cancel-sign" })));
  queueMicrotask(() => { const t = panel.querySelector("h2"); t.focus(); t.scrollIntoView({ block: "start" }); });
  return panel;
}
