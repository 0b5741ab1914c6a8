// Conflicts: two people changed the same thing differently. Show every value with who and
// when, let the practitioner choose one or combine them, and record the decision as a
// `resolve` op (which syncs like any other change).
import { h, fill, screenTitle, tag, card, fmtDayTime, emptyState, showErrors, radios, button, personName, nextId,
         characterCount, checkLimit, follow, valueInWords } from "./common.js";
import { list, get, me, model } from "./data.js";
import { rerender } from "../router.js";
import * as sync from "../sync.js";
import * as schema from "../generated/model.js";

const ENTITY = { family: "Family details", person: "Person details", visit: "Visit", checklist_response: "Checklist answer",
                 follow_up: "Follow-up", flag: "Flag", relationship: "Relationship", allocation: "Allocation" };

async function peopleOf(familyId) {
  const persons = familyId ? await list("person", { family_id: familyId }).catch(() => []) : [];
  return new Map(persons.map((p) => [p.id, p]));
}

async function recordLabel(c) {
  const rec = await get(c.entity, c.entity_id).catch(() => null);
  if (!rec) {
    const fam = c.family_id ? await get("family", c.family_id).catch(() => null) : null;
    return fam ? `${fam.family_name} family` : null;
  }
  if (c.entity === "family") return `${rec.family_name} family`;
  if (c.entity === "person") return personName(rec);
  const fam = rec.family_id ? await get("family", rec.family_id).catch(() => null) : null;
  return fam ? `${fam.family_name} family` : null;
}

function who(cand, user) {
  const name = cand.user_name || cand.display_name;
  if (user && cand.device_id && cand.device_id === user.device_id) return "You, on this phone";
  if (user && cand.user_id && cand.user_id === user.user_id) return "You, on another device";
  if (name) return name;
  if (!cand.user_id && !cand.device_id) return "The agency's system";
  return "A colleague";
}

export async function render(root) {
  const user = await me();
  const conflicts = (await list("conflict")).filter((c) => c.status !== "resolved");
  const cards = [];
  for (const c of conflicts) cards.push(await conflictCard(c, user));
  fill(root,
    ...screenTitle("Conflicts"),
    h("p", { class: "hs-body" }, "Someone else changed the same detail as you, before either change reached the server. Nothing has been lost: every version is kept. Choose the right one, or combine them."),
    cards.length ? cards : emptyState("There are no conflicts to sort out."),
  );
  return follow(["conflict"]);
}

async function conflictCard(c, user) {
  const label = await recordLabel(c);
  const cands = Array.isArray(c.candidates) ? [...c.candidates] : [];
  cands.sort((a, b) => (b.hlc || b.at || "").localeCompare(a.hlc || a.at || ""));
  const people = await peopleOf(c.family_id);
  const f = schema.field(c.entity, c.field) || {};
  const allText = (f.type === "text" || f.type === "json") && cands.every((x) => typeof x.value === "string" || x.value === null);
  const errorSlot = h("div", {});
  const id = nextId("conflict");
  let choice = null;
  const combine = h("textarea", { class: "hs-textarea", id: `${id}-combined`, rows: 4, "data-testid": "conflict-combined" });
  combine.value = cands.map((x) => x.value || "").filter(Boolean).join("\n");
  const combineGroup = h("div", { class: "hs-form-group hs-conditional", hidden: true },
    h("label", { class: "hs-label", for: `${id}-combined` }, "Combined text"),
    h("div", { class: "hs-hint" }, "Edit so that it says what is right."),
    characterCount(combine, c.entity, c.field));
  const options = cands.map((x, i) => ({
    value: String(i),
    label: valueInWords(c.entity, c.field, x.value, people),
    hint: `${who(x, user)} · ${x.at ? fmtDayTime(x.at) : "time not known"}${i === 0 ? " · newest, shown for now" : ""}`,
  }));
  if (allText) options.push({ value: "combine", label: "Combine them", hint: "Write one version from all of them" });
  const group = radios({
    legend: "Which is right?", options, testid: "conflict-choice",
    onChange: (v) => { choice = v; combineGroup.hidden = v !== "combine"; },
  });
  group.id = `${id}-choice`;
  return card({ "data-testid": "conflict", "data-conflict-id": c.id },
    h("h2", { class: "hs-h2" }, `${ENTITY[c.entity] || c.entity}: ${String(c.field || "").replaceAll("_", " ")}`),
    label ? h("p", { class: "hs-body" }, label) : null,
    tag("Needs a decision", "orange"),
    errorSlot,
    group,
    combineGroup,
    button("Save decision", async () => {
      if (choice === null) {
        showErrors(errorSlot, [{ text: "Choose which version is right", href: `#${id}-choice`, target: group.querySelector("input") }]);
        return;
      }
      const value = choice === "combine" ? combine.value : cands[Number(choice)].value;
      if (choice === "combine" && !combine.value.trim()) {
        showErrors(errorSlot, [{ text: "Enter the combined text", href: `#${id}-combined`, target: combine }]);
        return;
      }
      const tooLong = choice === "combine" ? checkLimit(combine) : null;
      if (tooLong) { showErrors(errorSlot, [{ text: tooLong, href: `#${id}-combined`, target: combine }]); return; }
      await (model.resolve || model.resolveConflict).call(model, c.id, value);
      sync.now(); // a decision is sent at once, not at the next periodic sync
      rerender();
    }, { "data-testid": "conflict-resolve" }));
}

/** At the answer itself: two people recorded it differently and a person must decide. */
export function conflictNote(c) {
  if (!c) return null;
  return h("div", { class: "hs-refused-note", "data-testid": "conflict-note", "data-conflict-id": c.id },
    tag("Needs a decision", "yellow"), " ",
    h("span", { class: "hs-body" }, "Someone else recorded this differently. Both answers are kept until one is chosen."),
    h("a", { href: "#/conflicts", class: "hs-block" }, "Decide which is right"));
}
