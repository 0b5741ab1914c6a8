// While a checklist is being answered: what an answer means before the practitioner moves
// on. An urgent flag, or a step due today, raised by this checklist for this child or carer
// is shown as a warning callout the moment the answer is saved, not only at "Check your
// answers". And an answer that confirms a fact about the child (how they get about) is
// written to the person's record, so the next visit starts from it.
import { h, warningCallout } from "./common.js";
import { model } from "./data.js";

const setFields = (entity, id, patch) => (model.setFields || model.update).call(model, entity, id, patch);

export async function confirmOnPerson(ctx, task, item, rec) {
  if (item.confirms !== "mobility" || !task.subject || !rec || typeof rec.answer !== "string") return;
  const person = ctx.byId.get(task.subject.id);
  if (!person || person.mobility === rec.answer) return;
  await setFields("person", person.id, { mobility: rec.answer });
  person.mobility = rec.answer;
}

// outcome: js/rules.js output for the whole visit (or null when it cannot be worked out).
export function nowView(outcome, task) {
  const wrap = h("div", { "data-testid": "answer-now", "aria-live": "assertive" });
  if (!outcome) return wrap;
  const mine = (x) => x.checklist === task.checklist.id && (x.subject || "visit") === task.subjectId;
  const flags = (outcome.flags || []).filter((f) => mine(f) && f.severity === "urgent");
  const today = (outcome.follow_ups || []).filter((f) => mine(f) && f.due_in_days === 0);
  const rules = [...new Set([...flags.map((f) => f.rule), ...today.map((f) => f.rule)])];
  for (const rule of rules) {
    const flag = flags.find((f) => f.rule === rule);
    const steps = today.filter((f) => f.rule === rule);
    const title = flag ? flag.reason : "Before you leave the home";
    wrap.append(warningCallout(title,
      h("div", {}, ...steps.map((s) => h("p", { class: "hs-body" }, s.text))),
      { level: 2, "data-testid": "answer-now-callout", "data-rule": rule, "data-severity": flag ? flag.severity : "" }));
  }
  return wrap;
}
