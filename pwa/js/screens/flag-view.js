// A flag as the practitioner and the supervisor read it: where it stands, the supervisor's
// decision and rationale, who decided and when, for closed flags too. Used by the family,
// the signed visit and the flag screens, so all three say the same thing in the same words.
import { h, tag, summaryList, warningCallout, card, fmtDay, fmtDayTime, personName, severityLabel, severityColour, severityRank } from "./common.js";
import { answerLabel } from "./visit-items.js";

/** When a flag was raised: the server's time if the phone has it, else its visit's signing. */
export function raisedAt(flag, visitsById = new Map()) {
  return flag.created_at || (visitsById.get(flag.visit_id) || {}).completed_at || null;
}

export function statusText(flag, name) {
  if (flag.status === "closed") return "Closed with a decision";
  if (flag.status === "acknowledged") {
    const by = flag.acknowledged_by ? ` by ${name(flag.acknowledged_by, { you: "you" })}` : " by the supervisor";
    return `Acknowledged${by}${flag.acknowledged_at ? ` on ${fmtDay(flag.acknowledged_at)}` : ""}. Waiting for a decision.`;
  }
  return "Waiting for the supervisor.";
}

/** The decision, its rationale, who and when; null while there is none. */
export function decisionList(flag, name, attrs = {}) {
  if (!flag.decision) return null;
  return summaryList([
    ["Decision", flag.decision],
    ["Rationale", flag.rationale || "Not recorded"],
    ["Decided by", flag.decided_by ? name(flag.decided_by) : "The supervisor"],
    flag.decided_at ? ["When", fmtDayTime(flag.decided_at)] : null,
  ], { "data-testid": "flag-decision-list", ...attrs });
}

/** The answers that raised a flag, in words (the checklist's prompt and the answer's label). */
export function answersInWords(answers, content) {
  const lists = (content && content.checklists) || [];
  const scale = (content && content.grade_scale) || [];
  return (Array.isArray(answers) ? answers : []).map((a) => {
    const list = lists.find((c) => c.id === a.checklist);
    const item = list && (list.items || []).find((i) => i.id === a.item);
    if (!item) return "An answer from a checklist no longer on this phone";
    return `${item.prompt} ${answerLabel(item, a.value, scale)}`;
  });
}

/** One flag for a practitioner's screen: open ones as warning callouts, closed as a card. */
export function flagBlock(flag, { name, byId, raised, level = 3 }) {
  const about = flag.subject_id && byId.get(flag.subject_id) ? h("p", { class: "hs-body" }, `About ${personName(byId.get(flag.subject_id))}.`) : null;
  const when = h("p", { class: "hs-body", "data-testid": "flag-status" },
    raised ? `Raised ${fmtDay(raised)}. ` : "", statusText(flag, name));
  const open = h("a", { href: `#/flags/${flag.id}`, class: "hs-link-block", "data-testid": "open-flag" }, "Open the flag");
  const body = h("div", {}, about, when, decisionList(flag, name), open);
  const attrs = { "data-testid": "family-flag", "data-flag-id": flag.id, "data-severity": flag.severity, "data-status": flag.status };
  const title = `${severityLabel(flag.severity)} flag: ${flag.reason || "safeguarding concern"}`;
  if (flag.status !== "closed") return warningCallout(title, body, { level, ...attrs });
  return card(attrs, h(`h${level}`, { class: "hs-card__heading" }, tag("Closed", "green"), " ", title), body);
}

export const byUrgency = (a, b) => severityRank(a.severity) - severityRank(b.severity);
export { severityColour };
