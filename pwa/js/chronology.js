// A child's chronology, built from the records on this phone by the rules the server
// declares (`../generated/family-views.js`, from the server's one declaration). The
// subject-access export builds the same events on the server; a test compares the two.
import { VIEWS } from "./generated/family-views.js";

const ORDER = new Map(VIEWS.event_kinds.map((k, i) => [k.value, i]));
const LABEL = new Map(VIEWS.event_kinds.map((k) => [k.value, k.label]));
const filled = (v) => typeof v === "string" && v.trim() !== "";
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export const kindLabel = (kind) => LABEL.get(kind) || kind;
export const visitWhen = (v) => v.completed_at || v.started_at || v.planned_for || null;

/** The genogram symbol for a person: square, circle, diamond or triangle. */
export function shape(p) {
  const g = VIEWS.genogram;
  if (p.role === "unborn") return g.shape_unborn;
  return g.shape_by_sex[p.sex || ""] || g.shape_default;
}
export const generation = (p) => VIEWS.genogram.generation[p.role] ?? 0;

/** The significant events in one person's record, oldest first; undated ones last. */
export function chronology(personId, { persons, visits, responses, flags, followUps }) {
  const people = new Map(persons.map((p) => [p.id, p]));
  const person = people.get(personId) || {};
  const signed = new Map(visits.filter((v) => v.status === "completed").map((v) => [v.id, v]));
  const about = (subject) => subject === personId || !people.has(subject);
  const events = [];
  const add = (kind, at, entity, id, detail = {}) => events.push({ kind, label: kindLabel(kind), at: at || null, entity, id, detail });

  if (person.date_of_birth) add("born", person.date_of_birth, "person", personId);
  for (const v of signed.values()) {
    const at = visitWhen(v);
    if (v.no_access) { add("no-access", at, "visit", v.id, { visit_type: v.type }); continue; }
    add("visit", at, "visit", v.id, { visit_type: v.type, seen: (v.present || []).includes(personId) });
    if (filled(v.decisions)) add("decision", at, "visit", v.id, { decisions: v.decisions, rationale: v.rationale ?? null });
    if (v.information_shared === "shared") {
      add("information-shared", at, "visit", v.id, { what: v.shared_what ?? null, shared_with: v.shared_with ?? null, why: v.shared_why ?? null });
    }
  }

  const answers = responses.filter((r) => signed.has(r.visit_id));
  const key = (...parts) => parts.join("|");
  const byKey = new Map(answers.map((r) => [key(r.visit_id, r.checklist_id, r.subject_id, r.item_id), r]));
  for (const r of answers) {
    for (const it of VIEWS.injury_items) {
      if (r.checklist_id === it.checklist && r.item_id === it.item && r.subject_id === personId && it.values.includes(r.answer)) {
        const desc = it.described_by ? byKey.get(key(r.visit_id, it.checklist, r.subject_id, it.described_by)) : null;
        add("injury", visitWhen(signed.get(r.visit_id)), "checklist_response", r.id, { description: desc ? desc.answer ?? null : null });
      }
    }
  }
  for (const it of VIEWS.household_items) {
    const said = answers.filter((r) => r.checklist_id === it.checklist && r.item_id === it.item && (r.answer === "yes" || r.answer === "no"))
      .sort((a, b) => cmp(visitWhen(signed.get(a.visit_id)) || "", visitWhen(signed.get(b.visit_id)) || "") || cmp(a.id, b.id));
    const last = new Map();
    for (const r of said) {
      if (last.get(r.subject_id) !== r.answer) {
        add("household", visitWhen(signed.get(r.visit_id)), "checklist_response", r.id, { person_id: r.subject_id, lives_here: r.answer === "yes" });
      }
      last.set(r.subject_id, r.answer);
    }
  }

  for (const f of flags) {
    if (!about(f.subject_id ?? null)) continue;
    const v = signed.get(f.visit_id || "");
    add("flag", v ? visitWhen(v) : null, "flag", f.id, { severity: f.severity ?? null, reason: f.reason ?? null, status: f.status ?? null });
    if (f.decided_at) add("flag-decision", f.decided_at, "flag", f.id, { decision: f.decision ?? null, rationale: f.rationale ?? null });
  }
  for (const f of followUps) {
    if (!about(f.subject_id ?? null)) continue;
    const v = signed.get(f.visit_id || "");
    add("follow-up", v ? visitWhen(v) : f.due_at, "follow_up", f.id, { text: f.text ?? null, due_at: f.due_at ?? null, status: f.status ?? null });
    if (f.completed_at && (f.status === "done" || f.status === "cancelled")) {
      add("follow-up-closed", f.completed_at, "follow_up", f.id, { status: f.status, note: f.note ?? null });
    }
  }

  return events.sort((a, b) => (a.at === null) - (b.at === null) || cmp(a.at || "", b.at || "")
    || ORDER.get(a.kind) - ORDER.get(b.kind) || cmp(a.id, b.id));
}
