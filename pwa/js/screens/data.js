// Read-side queries the screens share, over the platform's model (decrypted records).
import * as model from "../model.js";
import { dayKey } from "./common.js";
import * as schema from "../generated/model.js";

export { model };

const live = (rows) => (rows || []).filter((r) => !(r.deleted || r._deleted));

export async function list(entity, filter) {
  const rows = live(await model.list(entity, filter));
  if (!filter) return rows;
  // The filter is applied here too, so a model that ignores it still gives the right rows.
  return rows.filter((r) => Object.entries(filter).every(([k, v]) => r[k] === v));
}

export const get = (entity, id) => model.get(entity, id);
export const personsById = async () => new Map((await list("person")).map((p) => [p.id, p]));
export const me = () => model.me();

export function fieldVersion(rec, field) {
  const fv = rec.field_versions || rec._fv || {};
  return fv[field] || 0;
}
export const syncState = (rec) => rec._sync || null;

export async function familyBundle(familyId) {
  const [family, persons, relationships, visits, followUps, flags, observations, addenda, responses] = await Promise.all([
    get("family", familyId),
    list("person", { family_id: familyId }),
    list("relationship", { family_id: familyId }),
    list("visit", { family_id: familyId }),
    list("follow_up", { family_id: familyId }),
    list("flag", { family_id: familyId }),
    list("observation", { family_id: familyId }),
    list("addendum", { family_id: familyId }),
    list("checklist_response", { family_id: familyId }),
  ]);
  const responsesByVisit = new Map();
  for (const r of responses) {
    if (!responsesByVisit.has(r.visit_id)) responsesByVisit.set(r.visit_id, []);
    responsesByVisit.get(r.visit_id).push(r);
  }
  return { family, persons: sortPersons(persons), relationships, visits, followUps, flags, observations, addenda, responsesByVisit };
}

// People in the order the model lists their roles (children first), then by age.
export function sortPersons(persons) {
  return [...persons].sort((a, b) => {
    const ra = schema.rank("person", "role", a.role), rb = schema.rank("person", "role", b.role);
    if (ra !== rb) return ra - rb;
    return (a.date_of_birth || a.expected_date || "").localeCompare(b.date_of_birth || b.expected_date || "");
  });
}

export const visitWhen = (v) => v.completed_at || v.started_at || v.planned_for || v.created_at || "";
export function chronology(visits) {
  return [...visits].sort((a, b) => visitWhen(b).localeCompare(visitWhen(a)));
}

// People never present at any visit (of any status with a `present` list).
export function notYetSeen(persons, visits) {
  const seen = new Set();
  for (const v of visits) for (const id of v.present || []) seen.add(id);
  return new Set(persons.filter((p) => !seen.has(p.id)).map((p) => p.id));
}

export function lastSeen(personId, visits) {
  let best = null;
  for (const v of visits) {
    if ((v.present || []).includes(personId)) {
      const w = visitWhen(v);
      if (!best || w > best) best = w;
    }
  }
  return best;
}

export const isOpen = (f) => f.status === "open" || !f.status;
export const dueKey = (f) => dayKey(f.due_at);
