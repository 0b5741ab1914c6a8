// Pieces the visit's screens share: the observation kinds, what a refused entry of the visit
// was and what can be done with it, and the visit's sync status.
import * as sync from "../sync.js";
import * as schema from "../generated/model.js";
import { tag } from "./common.js";

// The kinds of observation, with their hints, as the synced model declares them.
export const OBS_KINDS = schema.choices("observation", "kind");
export const kindLabel = (k) => schema.label("observation", "kind", k);

const FIELD_LABELS = { answer: "Answer", note: "Note", text: "Text", kind: "What kind of entry this is", summary: "What happened" };

// What a refused entry was, in the visit's own words, and what can be done with it.
export function refusedOpts(ctx, toAddendum = null) {
  const signed = ctx.visit.status === "completed";
  const responses = new Map([...ctx.idx.values()].map((r) => [r.id, r]));
  const describe = (r) => {
    if (r.entity === "observation") return `Observation (${kindLabel(r.values.kind || (ctx.observations.find((o) => o.id === r.id) || {}).kind)})`;
    if (r.entity === "addendum") return "Addendum";
    if (r.entity === "visit") return "The visit's details";
    if (r.entity === "checklist_response") {
      const rec = responses.get(r.id) || r.values;
      const t = ctx.tasks.find((x) => x.checklist.id === rec.checklist_id && x.subjectId === rec.subject_id)
        || ctx.tasks.find((x) => x.checklist.id === rec.checklist_id);
      const item = t && t.items.find((i) => i.id === rec.item_id);
      return `Answer to "${item ? item.prompt : rec.item_id || "a question"}"`;
    }
    return r.entity;
  };
  return (r) => ({
    describe, fieldLabel: (f) => FIELD_LABELS[f] || f.replace(/_/g, " "),
    // A signed visit takes no more answers or changes: sending again would be refused again.
    frozen: signed && (r.entity === "checklist_response" || r.entity === "visit"),
    toAddendum: signed ? toAddendum : null,
  });
}

// The visit's sync status: "Synced" only when the server has answered every entry of it.
const VISIT_SYNC = {
  confirmed: ["Synced", "green"], rejected: ["Not all accepted by the server", "red"],
  conflict: ["Conflict: needs a decision", "orange"], held: ["Waiting on the server", "yellow"],
  waiting: ["Waiting to sync", "grey"], sent: ["Waiting to sync", "grey"],
};
export function visitSync(ctx) {
  const statuses = new Set([...ctx.ids].map((id) => sync.recordStatus(null, id)));
  if (ctx.refused.length) statuses.add("rejected");
  const worst = ["rejected", "conflict", "waiting", "sent", "held"].find((st) => statuses.has(st)) || "confirmed";
  const [label, colour] = VISIT_SYNC[worst];
  return tag(label, colour, { "data-testid": "visit-sync", "data-status": worst });
}
