// Family: who is in it (fathers and male carers as fully as mothers), flags as warning
// callouts, open follow-ups, and the visits as a chronology.
import { navigate } from "../router.js";
import { h, fill, screenTitle, tag, summaryList, fmtDay, dayKey, todayKey, relDay,
         visitTypeLabel, roleLabel, personName, emptyState, backLink, button, card, insetText, severityRank, follow, aboutWhom } from "./common.js";
import { familyBundle, chronology, notYetSeen, lastSeen, isOpen, dueKey, me, model, visitWhen } from "./data.js";
import { flagBlock, raisedAt } from "./flag-view.js";
import { namer } from "./staff.js";
import { ageBand, AGE_BAND_LABELS, isChildRole } from "./visit-facts.js";
import * as schema from "../generated/model.js";

const yesNo = (b) => (b ? "Yes" : "No");

export async function render(root, params) {
  const familyId = params.familyId || params.id;
  const b = await familyBundle(familyId);
  if (!b.family) {
    fill(root, ...screenTitle("Family not found"),
      h("p", { class: "hs-body" }, "This family is not on this phone. It may have left your caseload."),
      backLink("Back to caseload", "#/caseload"));
    return;
  }
  const today = todayKey();
  const byId = new Map(b.persons.map((p) => [p.id, p]));
  const unseen = notYetSeen(b.persons, b.visits.filter((v) => v.status === "completed"));
  const children = b.persons.filter((p) => isChildRole(p.role));
  const adults = b.persons.filter((p) => !isChildRole(p.role));
  const openFlags = b.flags.filter((f) => f.status !== "closed")
    .sort((a, c) => severityRank(a.severity) - severityRank(c.severity));
  const closedFlags = b.flags.filter((f) => f.status === "closed")
    .sort((a, c) => (c.decided_at || "").localeCompare(a.decided_at || ""));
  const visitsById = new Map(b.visits.map((v) => [v.id, v]));
  const name = await namer();
  const openFollowUps = b.followUps.filter(isOpen).sort((a, c) => (a.due_at || "").localeCompare(c.due_at || ""));
  const visits = chronology(b.visits);
  const upcoming = visits.filter((v) => v.status !== "completed").reverse();
  const past = visits.filter((v) => v.status === "completed");

  fill(root, 
    backLink("Caseload", "#/caseload"),
    ...screenTitle(`${b.family.family_name} family`, { caption: b.family.postcode || null }),

    openFlags.map((f) => flagBlock(f, { name, byId, raised: raisedAt(f, visitsById), level: 2 })),

    b.family.notes ? insetText(h("p", { class: "hs-body" }, b.family.notes)) : null,

    h("section", { "aria-labelledby": "fam-visit" },
      h("h2", { id: "fam-visit", class: "hs-h2" }, "Visits planned"),
      upcoming.length
        ? h("ul", { class: "hs-card-list" }, upcoming.map((v) => h("li", {},
            card({ "data-testid": "planned-visit" },
              h("p", { class: "hs-body hs-card__heading" }, `${visitTypeLabel(v.type)} – ${relDay(dayKey(v.planned_for))}, ${fmtDay(v.planned_for)}`),
              v.status === "in-progress" ? tag("In progress", "blue") : null,
              h("a", { href: `#/visit/${v.id}`, class: "hs-button", role: "button", "data-testid": "start-visit" },
                v.status === "in-progress" ? "Continue visit" : "Start visit")))))
        : emptyState("No visit planned."),
      button("Record an unplanned visit", async () => {
        const user = await me();
        const id = await model.create("visit", {
          family_id: familyId, practitioner_id: user ? user.user_id : null, type: "targeted", status: "planned",
          planned_for: new Date().toISOString(), no_access: false, present: [] }, { familyId });
        navigate(`#/visit/${typeof id === "string" ? id : id.id}`);
      }, { secondary: true, "data-testid": "new-visit" })),

    closedFlags.length ? h("section", { "aria-labelledby": "fam-decisions", "data-testid": "family-decisions" },
      h("h2", { id: "fam-decisions", class: "hs-h2" }, "Supervisor's decisions on closed flags"),
      closedFlags.map((f) => flagBlock(f, { name, byId, raised: raisedAt(f, visitsById) }))) : null,

    h("section", { "aria-labelledby": "fam-children", "data-testid": "family-children" },
      h("h2", { id: "fam-children", class: "hs-h2" }, "Children"),
      children.length ? children.map((c) => childCard(c, b, unseen, today)) : emptyState("No children recorded.")),

    h("section", { "aria-labelledby": "fam-adults", "data-testid": "family-adults" },
      h("h2", { id: "fam-adults", class: "hs-h2" }, "Parents and carers"),
      adults.length ? adults.map((a) => adultCard(a, b, byId, unseen)) : emptyState("No adults recorded.")),

    h("section", { "aria-labelledby": "fam-followups" },
      h("h2", { id: "fam-followups", class: "hs-h2" }, "Open follow-ups"),
      openFollowUps.length
        ? h("ul", { class: "hs-list hs-list--bordered" }, openFollowUps.map((f) => h("li", { "data-testid": "family-followup" },
            aboutWhom(f, byId),
            h("p", { class: "hs-body" }, f.text || ""),
            dueKey(f) < today ? tag(`Overdue, due ${fmtDay(f.due_at)}`, "red") : h("span", { class: "hs-hint" }, `Due ${fmtDay(f.due_at)}`))))
        : emptyState("No open follow-ups."),
      h("p", { class: "hs-body" }, h("a", { href: "#/follow-ups" }, "All my follow-ups"))),

    h("section", { "aria-labelledby": "fam-chron" },
      h("h2", { id: "fam-chron", class: "hs-h2" }, "Chronology"),
      h("ul", { class: "hs-list" }, children.map((c) => h("li", {}, h("a", { href: `#/family/${familyId}/chronology/${c.id}`,
        "data-testid": "open-chronology", "data-child-id": c.id }, `Chronology of significant events: ${personName(c)}`))),
        h("li", {}, h("a", { href: `#/family/${familyId}/genogram`, "data-testid": "open-genogram" }, "Genogram of the family"))),
      past.length
        ? h("ol", { class: "hs-timeline", "data-testid": "chronology" }, past.map((v) => {
            const present = (v.present || []).map((id) => personName(byId.get(id)));
            const obs = b.observations.filter((o) => o.visit_id === v.id).length;
            const add = b.addenda.filter((a) => a.visit_id === v.id).length;
            return h("li", { class: "hs-timeline__item" },
              h("h3", { class: "hs-timeline__heading" },
                h("a", { href: `#/visit/${v.id}` }, `${fmtDay(visitWhen(v))} – ${visitTypeLabel(v.type)}`)),
              v.no_access ? tag("No access", "orange")
                : h("p", { class: "hs-body" }, present.length ? `Seen: ${present.join(", ")}` : "Nobody recorded as seen"),
              obs || add ? h("p", { class: "hs-hint" }, [obs ? `${obs} ${obs === 1 ? "observation" : "observations"}` : null,
                                                             add ? `${add} ${add === 1 ? "addendum" : "addenda"}` : null].filter(Boolean).join(", ")) : null);
          }))
        : emptyState("No completed visits yet.")),

    h("section", { "aria-labelledby": "fam-contact" },
      h("h2", { id: "fam-contact", class: "hs-h2" }, "Contact"),
      summaryList([
        ["Address", b.family.address || "Not recorded"],
        ["Postcode", b.family.postcode || "Not recorded"],
        ["Phone", b.family.phone || "Not recorded"],
      ])),
  );
  return follow(["family", "person", "relationship", "visit", "flag", "follow_up", "observation", "addendum", "allocation"]);
}

function childCard(c, b, unseen, today) {
  const band = ageBand(c, today);
  const seen = lastSeen(c.id, b.visits.filter((v) => v.status === "completed"));
  return card({ "data-testid": "family-person", "data-person-id": c.id, "data-role": c.role },
    h("h3", { class: "hs-card__heading" }, personName(c)),
    h("p", { class: "hs-body" }, tag(AGE_BAND_LABELS[band] || roleLabel(c.role), "blue"), " ",
      c.protection_plan ? tag("Child protection plan", "red") : null, " ",
      unseen.has(c.id) ? tag("Not yet seen", "yellow", { "data-testid": "not-yet-seen" }) : null),
    summaryList([
      c.role === "unborn" ? ["Expected", fmtDay(c.expected_date) || "Not recorded"] : ["Date of birth", fmtDay(c.date_of_birth) || "Not recorded"],
      ["Lives in household", yesNo(c.lives_in_household !== false)],
      c.role !== "unborn" ? ["Gets about", c.mobility ? schema.label("person", "mobility", c.mobility) : "Not recorded"] : null,
      c.language ? ["Language", c.language + (c.interpreter_needed ? " (interpreter needed)" : "")] : null,
      ["Last seen", seen ? fmtDay(seen) : "Not yet seen"],
    ]));
}

function adultCard(a, b, byId, unseen) {
  const rels = b.relationships.filter((r) => r.adult_id === a.id);
  const done = b.visits.filter((v) => v.status === "completed");
  const seenAt = lastSeen(a.id, done);
  return card({ "data-testid": "family-person", "data-person-id": a.id, "data-role": a.role },
    h("h3", { class: "hs-card__heading" }, personName(a)),
    h("p", { class: "hs-body" }, tag(roleLabel(a.role), "grey"), " ",
      unseen.has(a.id) ? tag("Not yet seen", "yellow", { "data-testid": "not-yet-seen" }) : null),
    summaryList([
      ["Lives in household", yesNo(a.lives_in_household !== false)],
      ...rels.map((r) => [
        `To ${personName(byId.get(r.child_id))}`,
        `${capitalise(r.relationship || "related")}; parental responsibility: ${r.parental_responsibility ? "yes" : "no"}`]),
      rels.length === 0 ? ["Relationship to children", "Not recorded"] : null,
      a.language ? ["Language", a.language + (a.interpreter_needed ? " (interpreter needed)" : "")] : null,
      ["Last seen", seenAt ? fmtDay(seenAt) : "Not yet seen at any visit"],
    ]));
}

const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);
