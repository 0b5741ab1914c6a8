// Refused entries, shown where they were made: on the visit (all of its refused entries),
// at the checklist item and at the observation. Each says in plain words why the server did
// not take it, and offers a way on: correct it and send it again, add it to an addendum
// (a signed visit takes no more answers), copy its text, or let it go.
import { h, radios, button, characterCount, checkLimit, fieldError, warningCallout, tag, nextId, statusLine } from "./common.js";
import * as refused from "../refused.js";
import * as schema from "../generated/model.js";
import { rerender } from "../router.js";

/** The refused records of a visit: its own fields, its answers, observations and addenda. */
export function refusedForVisit(visitId) {
  return refused.records((r) => r.id === visitId || r.values.visit_id === visitId);
}

/** A short red tag and the plain reason, for the item or entry itself. */
export function refusedNote(r, { href } = {}) {
  if (!r) return null;
  return h("div", { class: "hs-refused-note", "data-testid": "refused-note" },
    tag("Not accepted by the server", "red"), " ",
    h("span", { class: "hs-body" }, refused.plainReason(r.reasons[0])),
    href ? h("a", { href, class: "hs-block" }, "Correct it or send it again") : null);
}

// Fields a person can correct before sending again: text and choices the model allows to be set.
function editable(r) {
  return Object.keys(r.values).filter((name) => {
    const f = schema.field(r.entity, name);
    if (!f || f.server_owned || (f.immutable && !r.created)) return false;
    if (f.type === "text") return true;
    if (f.type === "choice") return schema.choices(r.entity, name).length > 0;
    return f.type === "json" && typeof r.values[name] === "string"; // a written answer
  });
}

async function copy(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = "Copied. You can paste it anywhere on this phone.";
  } catch (_) {
    status.textContent = "This phone did not allow copying: select the text above and copy it.";
  }
}

function editor(r, { frozen, fieldLabel }) {
  const names = editable(r);
  const controls = new Map();
  const parts = names.map((name) => {
    const f = schema.field(r.entity, name);
    const label = fieldLabel ? fieldLabel(name) : name.replace(/_/g, " ");
    if (f.type === "choice") {
      let chosen = r.values[name];
      const group = radios({ legend: label, options: schema.choices(r.entity, name), value: chosen, small: true,
                             testid: `refused-${name}`, onChange: (v) => { chosen = v; } });
      controls.set(name, { value: () => chosen, el: group });
      return group;
    }
    const id = nextId("refused");
    const area = h("textarea", { class: "hs-textarea", id, rows: 4, "data-testid": `refused-${name}` });
    area.value = r.values[name] || "";
    controls.set(name, { value: () => area.value, el: area });
    return h("div", { class: "hs-form-group" }, h("label", { class: "hs-label", for: id }, label),
      characterCount(area, r.entity, name));
  });
  const wrap = h("div", { class: "hs-refused__editor", hidden: true, "data-testid": "refused-editor" }, ...parts);
  wrap.append(button("Send again", async () => {
    const changes = {};
    let bad = false;
    for (const [name, c] of controls) {
      if (c.el.tagName === "TEXTAREA" && checkLimit(c.el)) bad = true;
      changes[name] = c.value();
    }
    if (bad) return;
    try {
      await refused.resend(r.entity, r.id, changes);
      rerender();
    } catch (err) {
      if (err && err.name !== "InvalidValue") throw err;
      const c = controls.get(err.field);
      if (c && c.el.tagName === "TEXTAREA") fieldError(c.el, err.message);
      else wrap.prepend(h("p", { class: "hs-error-message", "data-testid": "field-error" }, err.message));
    }
  }, { "data-testid": "refused-send" }));
  return frozen ? null : wrap;
}

/**
 * One refused record, with its actions. opts: describe(r) -> what it is ("Observation: Fact"),
 * frozen (the visit is signed: sending again would be refused again), toAddendum(text, r).
 */
export function refusedItem(r, { describe, frozen = false, toAddendum = null, fieldLabel = null } = {}) {
  const text = refused.textOf(r);
  const status = statusLine();
  const edit = editor(r, { frozen, fieldLabel });
  const actions = [];
  if (edit) {
    actions.push(button("Correct and send again", () => { edit.hidden = false; const c = edit.querySelector("textarea, input"); if (c) c.focus(); },
                        { secondary: true, "data-testid": "refused-correct" }));
  }
  if (toAddendum && text) {
    actions.push(button("Add it to an addendum", () => toAddendum(`${describe ? describe(r) + ": " : ""}${text}`, r),
                        { secondary: true, "data-testid": "refused-to-addendum" }));
  }
  if (text) actions.push(button("Copy the text", () => copy(text, status), { secondary: true, "data-testid": "refused-copy" }));
  actions.push(button("Remove from this phone", async () => {
    if (!window.confirm("Remove this entry from this phone? The server did not accept it, so it will be gone from here.")) return;
    await refused.settle(r.entity, r.id);
    rerender();
  }, { secondary: true, "data-testid": "refused-remove" }));
  return h("li", { class: "hs-refused", "data-testid": "refused-entry", "data-entity": r.entity, "data-id": r.id },
    h("p", { class: "hs-body hs-card__heading" }, describe ? describe(r) : r.entity),
    text ? h("p", { class: "hs-body hs-quote", "data-testid": "refused-text" }, text) : null,
    h("p", { class: "hs-body", "data-testid": "refused-reason" }, refused.plainReason(r.reasons[0])),
    h("div", { class: "hs-button-group" }, ...actions),
    edit, status);
}

/** Every refused entry of a visit, as a warning at the top of its screen (null when none). */
export function refusedSection(list, opts) {
  if (!list.length) return null;
  return warningCallout(`${list.length === 1 ? "1 entry was" : `${list.length} entries were`} not accepted by the server`,
    h("div", {},
      h("p", { class: "hs-body" }, "They are kept on this phone until you correct and send them again, or copy them and remove them."),
      h("ul", { class: "hs-list hs-list--bordered", "data-testid": "refused" }, list.map((r) => refusedItem(r, opts(r))))),
    { level: 2, "data-testid": "refused-section" });
}
