// Which checklists apply to whom at a visit, which items show, and the `facts` the rule
// engine (js/rules.js) takes. Mirrors the selection in server/content/rules.py so that the
// screen asks exactly the questions the rules will read.

// Which people the checklists treat as children (the rest are carers).
export const isChildRole = (role) => role === "child" || role === "unborn";

// Content rules name visit types by the model's own values.
export const contentVisitType = (t) => t || "";

export function isoDate(d) {
  return d.toISOString().slice(0, 10);
}

// Age bands: unborn; under 1; under 5; school age (5 and over). Ages are counted on the
// visit date, in whole calendar years, so a baby turns "under-5" on their first birthday.
export function ageBand(person, onDate) {
  if (person.role === "unborn" || (!person.date_of_birth && person.expected_date)) return "unborn";
  if (!person.date_of_birth) return null;
  const dob = new Date(person.date_of_birth + "T00:00:00Z");
  const on = new Date(onDate + "T00:00:00Z");
  let years = on.getUTCFullYear() - dob.getUTCFullYear();
  const m = on.getUTCMonth() - dob.getUTCMonth();
  if (m < 0 || (m === 0 && on.getUTCDate() < dob.getUTCDate())) years -= 1;
  if (years < 1) return "under-1";
  if (years < 5) return "under-5";
  return "school-age";
}

// A baby's age as a practitioner says it: days for the first weeks, then weeks, then
// months to two, then years. Null when there is no date of birth (or not yet born).
export function ageLabel(person, onDate) {
  if (!person.date_of_birth) return null;
  const dob = new Date(person.date_of_birth + "T00:00:00Z");
  const on = new Date(onDate + "T00:00:00Z");
  const days = Math.round((on - dob) / 86400000);
  if (days < 0) return null;
  const plural = (n, w) => `${n} ${w}${n === 1 ? "" : "s"}`;
  if (days < 28) return plural(days, "day");
  if (days < 183) return plural(Math.floor(days / 7), "week");
  let months = (on.getUTCFullYear() - dob.getUTCFullYear()) * 12 + on.getUTCMonth() - dob.getUTCMonth();
  if (on.getUTCDate() < dob.getUTCDate()) months -= 1;
  if (months < 24) return plural(months, "month");
  return plural(Math.floor(months / 12), "year");
}

export const AGE_BAND_LABELS = {
  unborn: "Unborn",
  "under-1": "Under 1",
  "under-5": "Under 5",
  "school-age": "School age",
};

// Person roles (foundation) -> the carer role ids content rules name. Kept identical to the
// server's mapping (server/followups/from_visit.py) so the preview matches the authority.
export function carerRole(person) {
  switch (person.role) {
    case "mother":
    case "father":
    case "male-carer":
      return person.role;
    case "other-adult": // a man in the child's life is reached by the father / male carer checklist
      return person.sex === "male" ? "male-other-adult" : "other-adult";
    default: // a partner: the content distinguishes by sex
      return person.sex === "male" ? "male-partner" : "female-partner";
  }
}

export function subjectsFor(persons, relationships, onDate) {
  const out = [];
  for (const p of persons) {
    if (isChildRole(p.role)) {
      out.push({ id: p.id, kind: "child", age_band: ageBand(p, onDate), mobility: p.mobility || null, mobile: null,
                 protection_plan: !!p.protection_plan, role: p.role, person: p });
    }
  }
  for (const p of persons) {
    if (!isChildRole(p.role)) {
      out.push({ id: p.id, kind: "carer", age_band: null, mobile: null, protection_plan: false,
                 role: carerRole(p), person: p });
    }
  }
  return out;
}

export const itemKind = (c, item) => item.subject || c.applies_to.subject;

// By the person's recorded mobility, as js/rules.js decides which checklists apply.
function isNonMobile(sub, stages) {
  if (sub.mobility && stages) return stages.includes(sub.mobility);
  return sub.mobile == null ? sub.age_band === "under-1" : sub.mobile === false;
}

function childFits(c, item, child, stages) {
  const bands = c.applies_to.age_bands;
  if (bands && !bands.includes(child.age_band)) {
    if (!(c.applies_to.or_non_mobile && isNonMobile(child, stages))) return false;
  }
  if (item && item.age_bands && !item.age_bands.includes(child.age_band)) return false;
  if (c.applies_to.non_mobile_only && !isNonMobile(child, stages)) return false;
  return true;
}

export function checklistActive(c, subjects, stages) {
  if (!c.applies_to.age_bands && !c.applies_to.non_mobile_only) return true;
  return subjects.some((s) => s.kind === "child" && childFits(c, null, s, stages));
}

function carerFits(c, item, carer) {
  const roles = (item && item.carer_roles) || c.applies_to.carer_roles;
  return !roles || roles.includes(carer.role);
}

// One task per (checklist, subject): the items of that checklist asked about that subject.
// A child checklist can hold per-carer items (safer-sleep advice to each carer), which
// become a task per carer.
// An item with `required_first_contacts` is required only while the subject has been seen
// at fewer earlier visits than that; after, it is asked but not demanded.
function requiredNow(content, item, seenBefore) {
  if (!item.required || item.required_first_contacts == null) return item.required;
  const n = typeof item.required_first_contacts === "string"
    ? (content.params || {})[item.required_first_contacts] : item.required_first_contacts;
  return !(seenBefore >= n);
}

// seenBefore: Map person id -> earlier completed visits at which they were seen.
export function visitTasks(content, subjects, { noAccess = false, seenBefore = new Map() } = {}) {
  const stages = content && content.non_mobile_stages;
  const tasks = [];
  const asked = (items, s) => items.map((i) => {
    const req = requiredNow(content, i, s ? seenBefore.get(s.id) || 0 : 0);
    return req === i.required ? i : { ...i, required: req };
  });
  for (const c of (content && content.checklists) || []) {
    // A no-access visit asks only its visit-level checklists; a visit where the family was
    // seen asks the rest, and visit-level checklists marked asked_at: seen (the household).
    const visitLevel = c.applies_to.subject === "visit";
    const atSeen = !visitLevel || c.applies_to.asked_at === "seen";
    if (noAccess === atSeen) continue;
    if (!checklistActive(c, subjects, stages)) continue;
    const kinds = new Set(c.items.map((i) => itemKind(c, i)));
    if (kinds.has("visit")) {
      tasks.push({ checklist: c, subject: null, subjectId: "visit", items: c.items.filter((i) => itemKind(c, i) === "visit") });
    }
    if (kinds.has("child")) {
      for (const s of subjects.filter((x) => x.kind === "child" && childFits(c, null, x, stages))) {
        const items = c.items.filter((i) => itemKind(c, i) === "child" && childFits(c, i, s, stages));
        if (items.length) tasks.push({ checklist: c, subject: s, subjectId: s.id, items: asked(items, s) });
      }
    }
    if (kinds.has("carer")) {
      for (const s of subjects.filter((x) => x.kind === "carer" && carerFits(c, null, x))) {
        const items = c.items.filter((i) => itemKind(c, i) === "carer" && carerFits(c, i, s));
        if (items.length) tasks.push({ checklist: c, subject: s, subjectId: s.id, items: asked(items, s) });
      }
    }
  }
  return tasks;
}

// -- answers ---------------------------------------------------------------------------

export const answered = (v) => v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0);

// A visit-level answer's subject is its own visit ("visit" in older records on a phone).
const subjectKey = (r) => (!r.subject_id || r.subject_id === "visit" || r.subject_id === r.visit_id ? "visit" : r.subject_id);

// responses: checklist_response records of one visit -> Map "checklist|subject|item" -> record
export function responseIndex(responses) {
  const idx = new Map();
  for (const r of responses) idx.set(`${r.checklist_id}|${subjectKey(r)}|${r.item_id}`, r);
  return idx;
}

// show_if only ever refers to answers in the same checklist about the same subject.
export function condHolds(cond, c, subjectId, idx) {
  if (!cond) return true;
  const get = () => {
    const r = idx.get(`${cond.checklist || c.id}|${subjectId}|${cond.item}`);
    return r && answered(r.answer) ? r : null;
  };
  switch (cond.op) {
    case "all": return cond.of.every((x) => condHolds(x, c, subjectId, idx));
    case "any": return cond.of.some((x) => condHolds(x, c, subjectId, idx));
    case "not": return !condHolds(cond.of, c, subjectId, idx);
    case "answered": return !!get();
    case "equals": {
      const r = get();
      if (!r) return false;
      return Array.isArray(r.answer) ? r.answer.includes(cond.value) : r.answer === cond.value;
    }
    case "in": {
      const r = get();
      if (!r) return false;
      return Array.isArray(r.answer) ? r.answer.some((v) => cond.values.includes(v)) : cond.values.includes(r.answer);
    }
    case "evidence": {
      const r = get();
      return !!r && r.seen_or_told === cond.value;
    }
    case "grade_at_least": {
      const r = get();
      return !!r && Number.isInteger(r.answer) && r.answer >= cond.value;
    }
    default:
      return true; // conditions about history never gate whether a question is asked
  }
}

export function visibleItems(task, idx) {
  return task.items.filter((i) => condHolds(i.show_if, task.checklist, task.subjectId, idx));
}

// Task status for the task list: "not-started" | "in-progress" | "completed".
export function taskStatus(task, idx) {
  const items = visibleItems(task, idx);
  const done = items.filter((i) => {
    const r = idx.get(`${task.checklist.id}|${task.subjectId}|${i.id}`);
    return r && answered(r.answer);
  });
  if (done.length === 0) return "not-started";
  const required = items.filter((i) => i.required);
  const missing = required.filter((i) => !done.includes(i));
  return missing.length ? "in-progress" : "completed";
}

export function missingRequired(task, idx) {
  return visibleItems(task, idx).filter((i) => {
    if (!i.required) return false;
    const r = idx.get(`${task.checklist.id}|${task.subjectId}|${i.id}`);
    return !(r && answered(r.answer));
  });
}

// -- facts for js/rules.js --------------------------------------------------------------

function visitDate(v) {
  const when = v.completed_at || v.started_at || v.planned_for;
  return when ? when.slice(0, 10) : isoDate(new Date());
}

function answersOf(responses) {
  return responses
    .filter((r) => answered(r.answer))
    .map((r) => ({
      checklist: r.checklist_id,
      subject: subjectKey(r) === "visit" ? null : r.subject_id,
      item: r.item_id,
      value: r.answer,
      evidence: r.seen_or_told || null,
      note: r.note || "",
      version: r.checklist_version ?? null,
    }));
}

function factVisit(v, responses, onDate) {
  return {
    id: v.id,
    date: onDate || visitDate(v),
    type: contentVisitType(v.type),
    no_access: !!v.no_access,
    seen: Array.isArray(v.present) ? v.present : [],
    answers: answersOf(responses),
  };
}

// visit: the visit being recorded; others: the family's other visits; responsesByVisit:
// Map visit id -> checklist_response records.
export function buildFacts({ visit, persons, relationships, others, responsesByVisit, noAccess, today }) {
  const date = visit.status === "completed" ? visitDate(visit) : today || isoDate(new Date());
  const subjects = subjectsFor(persons, relationships, date).map(
    ({ id, kind, age_band, mobility, mobile, protection_plan, role }) => {
      const s = { id, kind, protection_plan, role };
      if (age_band) s.age_band = age_band;
      if (mobility) s.mobility = mobility;
      if (mobile !== null) s.mobile = mobile;
      return s;
    });
  const current = factVisit({ ...visit, no_access: noAccess ?? visit.no_access }, responsesByVisit.get(visit.id) || [], date);
  const history = others
    .filter((v) => v.id !== visit.id && v.status === "completed")
    .map((v) => factVisit(v, responsesByVisit.get(v.id) || []));
  return { visit: current, subjects, history };
}
