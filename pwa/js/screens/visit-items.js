// One checklist item, rendered by its answer type. Every change is saved at once through
// `save(patch)` (the model encrypts it and queues it for sync).
import { h, radios, checkboxes, textArea, nextId, insetText } from "./common.js";
import * as schema from "../generated/model.js";

const YES_NO = [
  { value: "yes", label: "Yes" },
  { value: "no", label: "No" },
  { value: "not-known", label: "Not known" },
];
// Seen or told, and the observation kinds, as the synced model declares them.
const SEEN_TOLD = schema.choices("checklist_response", "seen_or_told");
const ANSWER = ["checklist_response", "answer"];
const NOTE = ["checklist_response", "note"];

export function answerLabel(item, value, gradeScale = []) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return "Not answered";
  switch (item.type) {
    case "yes-no": return (YES_NO.find((o) => o.value === value) || {}).label || String(value);
    case "seen-told": return value === "seen" ? "Seen" : value === "told" ? "Told" : String(value);
    case "single-choice": return (item.choices.find((c) => c.id === value) || {}).label || String(value);
    case "multi-choice": return value.map((v) => (item.choices.find((c) => c.id === v) || {}).label || v).join("; ");
    case "grade": {
      const d = (item.grades || []).find((g) => g.grade === value) || gradeScale.find((g) => g.grade === value);
      return d ? `${value} – ${d.descriptor || d.label}` : String(value);
    }
    case "child-words": return `“${value}”`;
    case "number": return `${value} ${item.unit || ""}`.trim();
    default: return String(value);
  }
}

function guidance(item) {
  return h("details", { class: "hs-details" },
    h("summary", { class: "hs-details__summary" }, h("span", { class: "hs-details__summary-text" }, "Guidance")),
    h("div", { class: "hs-details__text" },
      h("p", { class: "hs-body" }, item.guidance),
      item.source ? h("p", { class: "hs-hint" }, `Source: ${item.source}`) : null));
}

// A measurement: typed as the practitioner reads the scales, saved as a number when it is
// one in the item's range; anything else is shown as an error and not saved.
function numberInput(item, legend, value, save) {
  const id = nextId("num");
  const input = h("input", { class: "hs-input hs-input--width-5", id, type: "text", inputmode: "decimal",
                             autocomplete: "off", value: value ?? "", "data-testid": `number-${item.id}` });
  const error = h("p", { class: "hs-error-message", hidden: true });
  const wrap = h("div", { class: "hs-form-group" },
    h("label", { class: "hs-label hs-label--bold", for: id }, legend),
    h("p", { class: "hs-hint" }, `In ${item.unit}`), error, h("span", {}, input, ` ${item.unit}`));
  input.addEventListener("change", () => {
    const raw = input.value.trim().replace(",", ".");
    const n = raw === "" ? null : Number(raw);
    const bad = n !== null && (!Number.isFinite(n) || (item.minimum != null && n < item.minimum) || (item.maximum != null && n > item.maximum));
    error.hidden = !bad;
    error.textContent = bad ? `Enter a number between ${item.minimum} and ${item.maximum} ${item.unit}` : "";
    input.classList.toggle("hs-input--error", bad);
    if (!bad) save({ answer: n });
  });
  return wrap;
}

// rec: the stored response (or null). Returns the item's container element.
export function renderItem(item, rec, save, { gradeScale = [], readOnly = false } = {}) {
  const value = rec ? rec.answer : null;
  const wrap = h("div", { class: "hs-item", "data-item": item.id, "data-testid": `item-${item.id}` });
  const legend = item.prompt + (item.required ? "" : " (optional)");
  let control;
  switch (item.type) {
    case "yes-no":
    case "seen-told":
    case "single-choice":
    case "grade": {
      const options = item.type === "yes-no" ? YES_NO
        : item.type === "seen-told" ? SEEN_TOLD
        : item.type === "grade"
          ? (item.grades.length ? item.grades : gradeScale.map((g) => ({ grade: g.grade, descriptor: g.label })))
              .map((g) => ({ value: String(g.grade), label: `Grade ${g.grade}`, hint: g.descriptor }))
          : item.choices.map((c) => ({ value: c.id, label: c.label, hint: c.guidance || null }));
      control = radios({
        legend, options, value: value === null || value === undefined ? null : String(value),
        small: item.type === "yes-no" || item.type === "seen-told",
        onChange: (v) => save({ answer: item.type === "grade" ? Number(v) : v }),
      });
      break;
    }
    case "multi-choice":
      control = checkboxes({ legend, hint: "Select all that apply", options: item.choices.map((c) => ({ value: c.id, label: c.label })),
                             value: value || [], onChange: (v) => save({ answer: v }) });
      break;
    case "number":
      control = numberInput(item, legend, value, save);
      break;
    case "child-words":
      control = textArea({
        label: legend, value, rows: 4, labelClass: "hs-label hs-label--bold", limit: ANSWER,
        hint: "Write exactly what the child said, word for word. Do not summarise or put it in your words.",
        onSave: (v) => save({ answer: v.trim() ? v : null }),
      });
      control.classList.add("hs-child-words");
      break;
    case "free-text":
    default:
      control = textArea({
        label: legend, value, rows: 4, labelClass: "hs-label hs-label--bold", limit: ANSWER,
        hint: item.records ? `Recorded as: ${schema.label("observation", "kind", item.records)}.` : null,
        onSave: (v) => save({ answer: v.trim() ? v : null }),
      });
  }
  wrap.append(control, guidance(item));

  if (item.ask_seen_or_told) {
    wrap.append(radios({
      legend: "Did you see this yourself, or were you told?", options: SEEN_TOLD, small: true,
      value: rec ? rec.seen_or_told : null, testid: `evidence-${item.id}`,
      onChange: (v) => save({ seen_or_told: v }),
    }));
  }
  if (item.note_prompt || ["yes-no", "single-choice", "multi-choice", "grade", "seen-told"].includes(item.type)) {
    const note = textArea({ label: item.note_prompt || "Note (optional)", value: rec ? rec.note : "", rows: 2,
                            limit: NOTE, onSave: (v) => save({ note: v }), testid: `note-${item.id}` });
    const open = !!(rec && rec.note) || !!item.note_prompt;
    const det = h("details", { class: "hs-details hs-details--note", open: open ? true : null },
      h("summary", { class: "hs-details__summary" }, h("span", { class: "hs-details__summary-text" }, item.note_prompt ? "Note" : "Add a note")),
      h("div", { class: "hs-details__text" }, note));
    wrap.append(det);
  }
  if (readOnly) for (const el of wrap.querySelectorAll("input, textarea")) el.disabled = true;
  return wrap;
}

export { insetText, nextId };
