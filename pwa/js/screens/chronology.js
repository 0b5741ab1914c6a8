// One child's chronology: the significant events in the record, oldest first, built on
// this phone from the encrypted store (works offline) by the server's declared rules.
import { h, fill, screenTitle, tag, fmtDay, visitTypeLabel, personName, backLink, emptyState, severityTag } from "./common.js";
import { familyBundle } from "./data.js";
import { chronology } from "../chronology.js";

const COLOURS = { "no-access": "orange", injury: "red", flag: "red", household: "yellow", "information-shared": "blue",
                  decision: "blue", "flag-decision": "green", "follow-up-closed": "green" };

function detail(e, byId) {
  const d = e.detail;
  const p = (...c) => h("p", { class: "hs-body" }, ...c);
  const labelled = (k, v) => (v ? p(h("strong", {}, `${k}: `), v) : null);
  switch (e.kind) {
    case "visit": return p(`${visitTypeLabel(d.visit_type)}: `, d.seen ? "seen" : tag("Not seen", "yellow", { "data-testid": "chron-not-seen" }));
    case "no-access": return p(visitTypeLabel(d.visit_type));
    case "injury": return p(d.description || "No description recorded.");
    case "household": return p(`${personName(byId.get(d.person_id))}: ${d.lives_here ? "lives in the home or stays regularly" : "does not live in the home"}`);
    case "decision": return [labelled("Decided", d.decisions), labelled("Why", d.rationale)];
    case "information-shared": return [labelled("What", d.what), labelled("With", d.shared_with), labelled("Why", d.why)];
    case "flag": return p(d.severity ? severityTag(d.severity) : null, " ", d.reason || "");
    case "flag-decision": return [labelled("Decision", d.decision), labelled("Why", d.rationale)];
    case "follow-up": return p(d.text || "", h("span", { class: "hs-hint hs-block" }, `Due ${fmtDay(d.due_at)}`));
    case "follow-up-closed": return p(d.status === "done" ? "Done" : "Cancelled", d.note ? `: ${d.note}` : "");
    default: return null;
  }
}

export async function render(root, params) {
  const b = await familyBundle(params.familyId);
  const person = b.persons.find((p) => p.id === params.personId);
  if (!b.family || !person) {
    fill(root, ...screenTitle("Not found"), h("p", { class: "hs-body" }, "This person is not on this phone."),
      backLink("Caseload", "#/caseload"));
    return;
  }
  const byId = new Map(b.persons.map((p) => [p.id, p]));
  const events = chronology(person.id, {
    persons: b.persons, visits: b.visits, responses: [...b.responsesByVisit.values()].flat(), flags: b.flags, followUps: b.followUps });
  fill(root,
    backLink(`${b.family.family_name} family`, `#/family/${b.family.id || params.familyId}`),
    ...screenTitle(`Chronology: ${personName(person)}`, { caption: `${b.family.family_name} family` }),
    h("p", { class: "hs-body" }, "Significant events from the signed record, oldest first. Events with no date on this phone are listed last."),
    h("p", { class: "hs-body" }, h("a", { href: `#/family/${params.familyId}/genogram`, "data-testid": "open-genogram" }, "Genogram of the family")),
    events.length
      ? h("ol", { class: "hs-timeline", "data-testid": "chronology-events" }, events.map((e) => h("li", {
          class: "hs-timeline__item", "data-testid": "chronology-event", "data-kind": e.kind, "data-id": e.id },
          h("h2", { class: "hs-timeline__heading" }, e.at ? fmtDay(e.at) : "Date not recorded", " – ",
            e.entity === "visit" ? h("a", { href: `#/visit/${e.id}` }, e.label) : tag(e.label, COLOURS[e.kind] || "grey")),
          detail(e, byId))))
      : emptyState("Nothing recorded yet."));
}
