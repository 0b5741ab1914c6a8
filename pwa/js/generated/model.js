// The synced data model (entities, fields, choices, limits, stores), as the server declares
// it. Generated from the server's model by `hearthside model js --write`: do not edit by
// hand. A test fails when this file is stale.

export const MODEL = {
  "max_json_bytes": 32000,
  "entities": {
    "family": {"store": "families", "insert_only": false, "fields": {
      "team_id": {"type": "id", "ref": "team"},
      "family_name": {"type": "text", "max_length": 100, "required": true, "personal": true},
      "address": {"type": "text", "max_length": 2000, "personal": true},
      "postcode": {"type": "text", "max_length": 10, "personal": true},
      "phone": {"type": "text", "max_length": 30, "personal": true},
      "notes": {"type": "text", "max_length": 2000, "personal": true},
      "status": {"type": "choice", "choices": [{"value": "active", "label": "Active"}, {"value": "closed", "label": "Closed"}]}
    }},
    "person": {"store": "persons", "insert_only": false, "fields": {
      "role": {"type": "choice", "choices": [{"value": "child", "label": "Child"}, {"value": "unborn", "label": "Unborn baby"}, {"value": "mother", "label": "Mother"}, {"value": "father", "label": "Father"}, {"value": "male-carer", "label": "Male carer"}, {"value": "partner", "label": "Partner"}, {"value": "other-adult", "label": "Other adult"}], "required": true},
      "given_name": {"type": "text", "max_length": 100, "personal": true},
      "family_name": {"type": "text", "max_length": 100, "personal": true},
      "date_of_birth": {"type": "date", "personal": true},
      "expected_date": {"type": "date", "personal": true},
      "sex": {"type": "choice", "choices": [{"value": "female", "label": "Female"}, {"value": "male", "label": "Male"}, {"value": "other", "label": "Other"}, {"value": "unknown", "label": "Not known"}]},
      "nhs_number": {"type": "nhs-number", "personal": true},
      "ethnicity": {"type": "text", "max_length": 100, "personal": true},
      "language": {"type": "text", "max_length": 100, "personal": true},
      "interpreter_needed": {"type": "bool"},
      "lives_in_household": {"type": "bool"},
      "protection_plan": {"type": "bool"},
      "mobility": {"type": "choice", "choices": [{"value": "not-yet", "label": "Not yet moving about", "hint": "Stays where put down"}, {"value": "rolling", "label": "Rolling"}, {"value": "crawling", "label": "Crawling or bottom-shuffling"}, {"value": "cruising", "label": "Pulling up and cruising"}, {"value": "walking", "label": "Walking"}], "personal": true}
    }},
    "relationship": {"store": "relationships", "insert_only": false, "fields": {
      "adult_id": {"type": "id", "immutable": true, "required": true, "ref": "person"},
      "child_id": {"type": "id", "immutable": true, "required": true, "ref": "person"},
      "relationship": {"type": "text", "max_length": 100, "required": true, "personal": true},
      "parental_responsibility": {"type": "bool"}
    }},
    "allocation": {"store": "allocations", "insert_only": false, "fields": {
      "practitioner_id": {"type": "id", "immutable": true, "required": true, "ref": "user"},
      "active": {"type": "bool"}
    }},
    "visit": {"store": "visits", "insert_only": false, "owner": "practitioner_id", "fields": {
      "practitioner_id": {"type": "id", "required": true, "ref": "user"},
      "type": {"type": "choice", "choices": [{"value": "antenatal", "label": "Antenatal"}, {"value": "new-birth", "label": "New birth"}, {"value": "six-to-eight-week", "label": "6 to 8 week review"}, {"value": "targeted", "label": "Targeted"}, {"value": "child-protection", "label": "Child protection"}, {"value": "no-access", "label": "No access"}], "required": true},
      "status": {"type": "choice", "choices": [{"value": "planned", "label": "Planned"}, {"value": "in-progress", "label": "In progress"}, {"value": "completed", "label": "Completed"}]},
      "planned_for": {"type": "datetime"},
      "started_at": {"type": "datetime"},
      "completed_at": {"type": "datetime", "server_owned": true},
      "signed_by": {"type": "id", "server_owned": true, "ref": "user"},
      "no_access": {"type": "bool"},
      "present": {"type": "json", "personal": true},
      "summary": {"type": "text", "max_length": 20000, "personal": true},
      "decisions": {"type": "text", "max_length": 20000, "personal": true},
      "rationale": {"type": "text", "max_length": 20000, "personal": true},
      "information_shared": {"type": "choice", "choices": [{"value": "shared", "label": "Yes, information was shared", "hint": "Say what, with whom and why."}, {"value": "not-shared", "label": "No: I decided not to share", "hint": "Say why not."}, {"value": "nothing-to-share", "label": "No: nothing needed sharing"}]},
      "shared_what": {"type": "text", "max_length": 2000, "personal": true},
      "shared_with": {"type": "text", "max_length": 2000, "personal": true},
      "shared_why": {"type": "text", "max_length": 2000, "personal": true},
      "interpreter": {"type": "choice", "choices": [{"value": "not-needed", "label": "Not needed: everyone spoke and understood English"}, {"value": "professional", "label": "A professional interpreter", "hint": "In person, by phone or by video."}, {"value": "not-available", "label": "Needed, but no professional interpreter was available"}, {"value": "family-or-child", "label": "A family member, friend or child interpreted"}]},
      "interpreter_language": {"type": "text", "max_length": 100, "personal": true}
    }},
    "checklist_response": {"store": "responses", "insert_only": false, "fields": {
      "visit_id": {"type": "id", "immutable": true, "required": true, "ref": "visit"},
      "checklist_id": {"type": "text", "max_length": 100, "immutable": true, "required": true, "ref": "checklist"},
      "checklist_version": {"type": "int", "immutable": true, "required": true},
      "subject_id": {"type": "id", "immutable": true, "required": true, "ref": "subject"},
      "item_id": {"type": "text", "max_length": 100, "immutable": true, "required": true, "ref": "checklist-item"},
      "answer": {"type": "json", "personal": true},
      "note": {"type": "text", "max_length": 2000, "personal": true},
      "seen_or_told": {"type": "choice", "choices": [{"value": "seen", "label": "I saw it"}, {"value": "told", "label": "I was told"}]}
    }},
    "observation": {"store": "observations", "insert_only": true, "owner": "recorded_by", "fields": {
      "visit_id": {"type": "id", "ref": "visit"},
      "about_person_id": {"type": "id", "ref": "person"},
      "kind": {"type": "choice", "choices": [{"value": "fact", "label": "Fact", "hint": "What you saw, heard or were told, and by whom."}, {"value": "professional-judgement", "label": "Professional judgement", "hint": "Your view, with the reasons for it."}, {"value": "child-words", "label": "Child's own words", "hint": "Exactly what the child said, in quotation marks."}, {"value": "parent-view", "label": "Parent's view", "hint": "What a parent or carer said or thinks."}, {"value": "analysis", "label": "Analysis", "hint": "What it means for the child: risks, strengths, what next."}], "required": true},
      "text": {"type": "text", "max_length": 20000, "required": true, "personal": true},
      "supersedes_id": {"type": "id", "ref": "observation"},
      "recorded_by": {"type": "id", "server_owned": true, "ref": "user"},
      "recorded_at": {"type": "datetime", "server_owned": true},
      "device_id": {"type": "id", "server_owned": true},
      "attention": {"type": "choice", "choices": [{"value": "visit-deleted", "label": "Its visit is not on the server (deleted, or never sent)"}, {"value": "person-deleted", "label": "The person it is about is not on the server (deleted, or never sent)"}, {"value": "recorded-out-of-reach", "label": "Recorded while the family was not allocated"}], "server_owned": true}
    }},
    "addendum": {"store": "addenda", "insert_only": true, "owner": "recorded_by", "fields": {
      "visit_id": {"type": "id", "required": true, "ref": "visit"},
      "text": {"type": "text", "max_length": 20000, "required": true, "personal": true},
      "recorded_by": {"type": "id", "server_owned": true, "ref": "user"},
      "recorded_at": {"type": "datetime", "server_owned": true},
      "device_id": {"type": "id", "server_owned": true},
      "attention": {"type": "choice", "choices": [{"value": "visit-deleted", "label": "Its visit is not on the server (deleted, or never sent)"}, {"value": "person-deleted", "label": "The person it is about is not on the server (deleted, or never sent)"}, {"value": "recorded-out-of-reach", "label": "Recorded while the family was not allocated"}], "server_owned": true}
    }},
    "follow_up": {"store": "follow_ups", "insert_only": false, "owner": "assignee_id", "fields": {
      "visit_id": {"type": "id", "immutable": true, "ref": "visit"},
      "rule_id": {"type": "text", "max_length": 100, "immutable": true},
      "subject_id": {"type": "id", "immutable": true, "ref": "subject"},
      "assignee_id": {"type": "id", "ref": "user"},
      "due_at": {"type": "datetime", "required": true},
      "text": {"type": "text", "max_length": 2000, "required": true, "personal": true},
      "status": {"type": "choice", "choices": [{"value": "open", "label": "Open"}, {"value": "done", "label": "Done"}, {"value": "cancelled", "label": "Cancelled"}]},
      "note": {"type": "text", "max_length": 2000, "personal": true},
      "completed_at": {"type": "datetime", "server_owned": true}
    }},
    "flag": {"store": "flags", "insert_only": false, "fields": {
      "visit_id": {"type": "id", "immutable": true, "ref": "visit"},
      "rule_id": {"type": "text", "max_length": 100, "immutable": true},
      "subject_id": {"type": "id", "immutable": true, "ref": "subject"},
      "severity": {"type": "choice", "choices": [{"value": "urgent", "label": "Urgent"}, {"value": "high", "label": "High"}, {"value": "routine", "label": "Routine"}], "immutable": true, "required": true},
      "reason": {"type": "text", "max_length": 2000, "immutable": true, "required": true, "personal": true},
      "answers": {"type": "json", "immutable": true, "personal": true},
      "status": {"type": "choice", "choices": [{"value": "open", "label": "Open"}, {"value": "acknowledged", "label": "Acknowledged"}, {"value": "closed", "label": "Closed"}]},
      "acknowledged_by": {"type": "id", "server_owned": true, "ref": "user"},
      "acknowledged_at": {"type": "datetime", "server_owned": true},
      "decision": {"type": "text", "max_length": 2000, "personal": true},
      "rationale": {"type": "text", "max_length": 2000, "personal": true},
      "decided_by": {"type": "id", "server_owned": true, "ref": "user"},
      "decided_at": {"type": "datetime", "server_owned": true},
      "raised_by": {"type": "id", "server_owned": true}
    }},
    "conflict": {"store": "conflicts", "insert_only": false, "fields": {
      "entity": {"type": "text", "max_length": 64, "immutable": true, "required": true},
      "entity_id": {"type": "id", "immutable": true, "required": true},
      "field": {"type": "text", "max_length": 64, "immutable": true, "required": true},
      "candidates": {"type": "json", "server_owned": true, "personal": true},
      "status": {"type": "choice", "choices": [{"value": "open", "label": "Open"}, {"value": "resolved", "label": "Resolved"}], "server_owned": true},
      "resolution": {"type": "json", "server_owned": true, "personal": true},
      "resolved_by": {"type": "id", "server_owned": true},
      "resolved_at": {"type": "datetime", "server_owned": true}
    }}
  }
};

function freeze(o) {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) freeze(v);
  }
  return o;
}
freeze(MODEL);

export const MAX_JSON_BYTES = MODEL.max_json_bytes;
export const ENTITIES = Object.freeze(Object.keys(MODEL.entities));
/** The IndexedDB store of each entity. */
export const ENTITY_STORE = Object.freeze(Object.fromEntries(
  Object.entries(MODEL.entities).map(([name, e]) => [name, e.store])));

const NONE = Object.freeze([]);

export function entity(name) { return MODEL.entities[name] || null; }
export function field(entityName, name) {
  const e = MODEL.entities[entityName];
  return (e && e.fields[name]) || null;
}
/** The allowed values of a choice field, in the model's order: [{value, label, hint}]. */
export function choices(entityName, name) { const f = field(entityName, name); return (f && f.choices) || NONE; }
export function values(entityName, name) { return choices(entityName, name).map((c) => c.value); }
/** The label the model gives a choice value (the value itself when it is not a choice). */
export function label(entityName, name, value) {
  const c = choices(entityName, name).find((x) => x.value === value);
  return c ? c.label : (value ?? "");
}
/** The position of a value in its choice list (the model's order), or the list's length. */
export function rank(entityName, name, value) {
  const i = values(entityName, name).indexOf(value);
  return i < 0 ? choices(entityName, name).length : i;
}
/** A text field's limit in characters (JSON fields: encoded bytes), or null. */
export function maxLength(entityName, name) {
  const f = field(entityName, name);
  if (!f) return null;
  if (f.type === "json") return MAX_JSON_BYTES;
  return f.max_length ?? null;
}
const encoder = new TextEncoder();
/** How the server measures a value against maxLength: characters (code points) of text,
 * UTF-8 bytes of a JSON value as encoded. */
export function measure(entityName, name, value) {
  const f = field(entityName, name);
  if (value === null || value === undefined) return 0;
  if (f && f.type === "json") return encoder.encode(JSON.stringify(value)).length;
  return typeof value === "string" ? [...value].length : 0;
}

/** Why the server would refuse `value` for this field (null when it is allowed). Mirrors
 * the server's value checks: type, allowed values, length. */
export function problem(entityName, name, value) {
  const f = field(entityName, name);
  if (!f) return `${name} is not a field of ${entityName}`;
  if (value === null || value === undefined) return f.required ? `${name} is required` : null;
  switch (f.type) {
    case "bool": return typeof value === "boolean" ? null : `${name} must be true or false`;
    case "int": return Number.isInteger(value) ? null : `${name} must be a whole number`;
    case "json":
      return measure(entityName, name, value) > MAX_JSON_BYTES ? `${name} is longer than ${MAX_JSON_BYTES} bytes` : null;
    default: break;
  }
  if (typeof value !== "string") return `${name} must be text`;
  if (f.type === "text") {
    if (f.max_length != null && measure(entityName, name, value) > f.max_length) {
      return `${name} is longer than ${f.max_length} characters`;
    }
    if (value.includes("\u0000")) return `${name} contains a NUL character`;
  }
  if (f.type === "choice" && !values(entityName, name).includes(value)) return `${name} is not one of the allowed values`;
  return null;
}
