// Small pieces shared by the screens, built on the platform's ui.js (textContent only).
import { h } from "../ui.js";
import * as lock from "../lock.js";
import * as model from "../model.js";
import { rerender } from "../router.js";
import * as schema from "../generated/model.js";

export { h };

// A polite status line ("Saved on this phone"). It keeps its line's height while empty:
// text appearing above a button mid-tap would move the button between press and release,
// and the tap would be lost.
export function statusLine(attrs = {}) {
  return h("p", { class: "hs-hint hs-status", role: "status", "aria-live": "polite", ...attrs });
}

// Element.append would print null as "null": skip empty children, flatten arrays.
export function fill(parent, ...children) {
  const flat = children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false && c !== true);
  parent.append(...flat);
  return parent;
}

const TZ = "Europe/London";
const dayFmt = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, weekday: "short", day: "numeric", month: "short", year: "numeric" });
const timeFmt = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit" });
const keyFmt = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

// The calendar day (YYYY-MM-DD) of an instant, in the agency's time zone.
export function dayKey(isoOrDate) {
  if (!isoOrDate) return "";
  const d = typeof isoOrDate === "string" ? new Date(isoOrDate.length === 10 ? isoOrDate + "T12:00:00Z" : isoOrDate) : isoOrDate;
  return keyFmt.format(d);
}
export const todayKey = () => dayKey(new Date());
export function addDays(key, n) {
  const d = new Date(key + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
export function daysBetween(fromKey, toKey) {
  return Math.round((Date.parse(toKey + "T12:00:00Z") - Date.parse(fromKey + "T12:00:00Z")) / 86400000);
}

export function fmtDay(iso) {
  if (!iso) return "";
  return dayFmt.format(new Date(iso.length === 10 ? iso + "T12:00:00Z" : iso));
}
export function fmtTime(iso) {
  return iso && iso.length > 10 ? timeFmt.format(new Date(iso)) : "";
}
export function fmtDayTime(iso) {
  if (!iso) return "";
  const t = fmtTime(iso);
  return t ? `${fmtDay(iso)}, ${t}` : fmtDay(iso);
}
export function relDay(key) {
  const d = daysBetween(todayKey(), key);
  if (d === 0) return "Today";
  if (d === 1) return "Tomorrow";
  if (d === -1) return "Yesterday";
  return d < 0 ? `${-d} days ago` : `In ${d} days`;
}

// Option lists and labels come from the synced model (js/generated/model.js), never a copy.
export const VISIT_TYPES = Object.freeze(Object.fromEntries(schema.choices("visit", "type").map((c) => [c.value, c.label])));
export const visitTypeLabel = (t) => (t ? schema.label("visit", "type", t) : "Visit");

export const ROLE_LABELS = Object.freeze(Object.fromEntries(schema.choices("person", "role").map((c) => [c.value, c.label])));
export const roleLabel = (r) => schema.label("person", "role", r);

// Severities in the model's order, most urgent first; colour by that rank.
const SEVERITY_COLOURS = ["red", "orange", "blue"];
export const severityLabel = (s) => schema.label("flag", "severity", s);
export const severityRank = (s) => schema.rank("flag", "severity", s);
export const severityColour = (s) => SEVERITY_COLOURS[severityRank(s)] || "grey";
export const severityTag = (s, attrs = {}) => tag(severityLabel(s), severityColour(s), attrs);

export function personName(p) {
  if (!p) return "Someone not on the record";
  return [p.given_name, p.family_name].filter(Boolean).join(" ") || roleLabel(p.role);
}

// "1 day", "3 days": never "(1 days)".
export const plural = (n, word) => `${n} ${n === 1 ? word : word + "s"}`;

// Whom a follow-up (or flag) is about: a child or carer by name, else the whole family.
export function aboutWhom(rec, personsById) {
  const p = rec.subject_id && personsById.get(rec.subject_id);
  return h("p", { class: "hs-hint", "data-testid": "about-whom" }, p ? `About ${personName(p)}` : "About the whole family");
}

// A record's value as a person reads it: a choice's label, a time as a time, people by name
// (from `people`, id -> person), never a raw id or timestamp.
export function valueInWords(entity, field, v, people = new Map()) {
  if (v === null || v === undefined || v === "") return "(empty)";
  if (typeof v === "boolean") return v ? "Yes" : "No";
  const f = schema.field(entity, field) || {};
  const name = (id) => (people.has(id) ? personName(people.get(id)) : "someone not on this phone");
  if (f.type === "choice") return String(schema.label(entity, field, v));
  if (f.type === "datetime") return fmtDayTime(v);
  if (f.type === "date") return fmtDay(v);
  if (f.type === "id" && typeof v === "string") return name(v);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.length ? v.map(name).join(", ") : "Nobody";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export function screenTitle(text, { caption } = {}) {
  return [
    caption ? h("span", { class: "hs-caption" }, caption) : null,
    h("h1", { tabindex: "-1", class: "hs-h1" }, text),
  ];
}

// NHS.UK tag: colour is one of grey, blue, green, red, yellow, orange.
export function tag(text, colour = "grey", attrs = {}) {
  return h("strong", { class: `hs-tag hs-tag--${colour}`, ...attrs }, text);
}

// NHS.UK summary list: rows of [key, value, action?]
export function summaryList(rows, attrs = {}) {
  return h("dl", { class: "hs-summary", ...attrs },
    rows.filter(Boolean).map(([k, v, action]) =>
      h("div", { class: "hs-summary__row" },
        h("dt", { class: "hs-summary__key" }, k),
        h("dd", { class: "hs-summary__value" }, v ?? ""),
        action ? h("dd", { class: "hs-summary__action" }, action) : null)));
}

export function warningCallout(title, body, { level = 3, ...attrs } = {}) {
  return h("div", { class: "hs-warning", role: "region", "aria-label": title, ...attrs },
    h(`h${level}`, { class: "hs-warning__title" },
      h("span", { class: "hs-visually-hidden" }, "Important: "), title),
    body);
}

export function insetText(...children) {
  return h("div", { class: "hs-inset" }, ...children);
}

export function card(attrs, ...children) {
  return h("div", { class: "hs-card", ...attrs }, ...children);
}

export function linkButton(text, href, { secondary, ...attrs } = {}) {
  return h("a", { class: secondary ? "hs-button hs-button--secondary" : "hs-button", href, draggable: "false", ...attrs }, text);
}

export function button(text, onclick, attrs = {}) {
  const cls = ["hs-button"];
  if (attrs.secondary) cls.push("hs-button--secondary");
  if (attrs.warning) cls.push("hs-button--warning");
  const { secondary, warning, ...rest } = attrs;
  // A second tap while the first is still being handled does nothing (a visit started
  // twice, a decision saved twice): the button says it is busy until the work is done.
  let busy = false;
  const click = async (ev) => {
    if (busy) { ev.preventDefault(); return; }
    busy = true;
    el.setAttribute("aria-disabled", "true");
    try { await onclick(ev); } finally { busy = false; el.removeAttribute("aria-disabled"); }
  };
  const el = h("button", { type: "button", class: cls.join(" "), on: { click }, ...rest }, text);
  return el;
}

export function backLink(text, href) {
  return h("a", { class: "hs-back-link", href }, text);
}

// NHS.UK error summary: a list of links to the fields in error; focused when shown.
export function errorSummary(errors) {
  const box = h("div", { class: "hs-error-summary", role: "alert", tabindex: "-1", "aria-labelledby": "error-summary-title",
                         "data-testid": "error-summary" },
    h("h2", { class: "hs-error-summary__title", id: "error-summary-title" }, "There is a problem"),
    h("ul", { class: "hs-error-summary__list" },
      errors.map((e) => h("li", {}, h("a", { href: e.href || "#", on: { click: (ev) => {
        const target = e.target || (e.href && e.href.startsWith("#") && document.getElementById(e.href.slice(1)));
        if (target) { ev.preventDefault(); target.focus(); target.scrollIntoView({ block: "center" }); }
      } } }, e.text)))));
  queueMicrotask(() => box.focus());
  return box;
}

// NHS.UK task list: items [{text, href, status, testid, hint}]
const STATUS = {
  "not-started": ["Not started", "grey"],
  "in-progress": ["In progress", "blue"],
  completed: ["Completed", "green"],
  "cannot-start": ["Cannot start yet", "grey"],
  "not-seen": ["Not seen", "yellow"],
};
export function taskList(items, attrs = {}) {
  return h("ul", { class: "hs-task-list", ...attrs },
    items.map((it) => {
      const [label, colour] = STATUS[it.status] || [it.status, "grey"];
      const id = `task-${Math.random().toString(36).slice(2, 8)}`;
      const link = it.href
        ? h("a", { href: it.href, class: "hs-task-list__link", "aria-describedby": `${id}-status`, "data-testid": it.testid }, it.text)
        : h("span", { class: "hs-task-list__name" }, it.text);
      return h("li", { class: "hs-task-list__item" },
        h("div", { class: "hs-task-list__name-and-hint" }, link,
          it.hint ? h("div", { class: "hs-hint" }, it.hint) : null),
        h("div", { class: "hs-task-list__status", id: `${id}-status` }, tag(label, colour)));
    }));
}

export function emptyState(text) {
  return h("p", { class: "hs-body hs-empty" }, text);
}

// Fields ----------------------------------------------------------------------------------

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

export function radios({ name, legend, hint, options, value, onChange, error, small = false, legendTag = "legend", testid }) {
  const group = nextId("grp");
  return h("div", { class: `hs-form-group${error ? " hs-form-group--error" : ""}`, "data-testid": testid },
    h("fieldset", { class: "hs-fieldset", "aria-describedby": hint ? `${group}-hint` : null },
      h(legendTag, { class: "hs-fieldset__legend" }, legend),
      hint ? h("div", { class: "hs-hint", id: `${group}-hint` }, hint) : null,
      error ? h("span", { class: "hs-error-message", id: `${group}-error` }, h("span", { class: "hs-visually-hidden" }, "Error: "), error) : null,
      h("div", { class: `hs-radios${small ? " hs-radios--small" : ""}` },
        options.map((o, i) => {
          const id = `${group}-${i}`;
          return h("div", { class: "hs-radios__item" },
            h("input", { class: "hs-radios__input", id, name: name || group, type: "radio", value: o.value,
                         checked: value === o.value ? true : null, "data-value": o.value,
                         on: { change: () => onChange(o.value) } }),
            h("label", { class: "hs-label hs-radios__label", for: id }, o.label,
              o.hint ? h("span", { class: "hs-hint hs-radios__hint" }, o.hint) : null));
        }))));
}

export function checkboxes({ legend, hint, options, value = [], onChange, testid }) {
  const group = nextId("cb");
  const current = new Set(value || []);
  return h("div", { class: "hs-form-group", "data-testid": testid },
    h("fieldset", { class: "hs-fieldset", "aria-describedby": hint ? `${group}-hint` : null },
      h("legend", { class: "hs-fieldset__legend" }, legend),
      hint ? h("div", { class: "hs-hint", id: `${group}-hint` }, hint) : null,
      h("div", { class: "hs-checkboxes" },
        options.map((o, i) => {
          const id = `${group}-${i}`;
          return h("div", { class: "hs-checkboxes__item" },
            h("input", { class: "hs-checkboxes__input", id, type: "checkbox", value: o.value, checked: current.has(o.value) ? true : null,
                         "data-value": o.value,
                         on: { change: (ev) => {
                           if (ev.target.checked) current.add(o.value); else current.delete(o.value);
                           onChange(options.map((x) => x.value).filter((v) => current.has(v)));
                         } } }),
            h("label", { class: "hs-label hs-checkboxes__label", for: id }, o.label));
        }))));
}

// NHS.UK character count: the model's limit for `entity.field` as the control's maxlength,
// and "n characters left" while typing. maxlength alone is not enough (a paste or a
// restored draft can exceed it), so `control.limitProblem()` says when it is too long and
// saves check it. JSON answers are measured as the server measures them: encoded bytes.
export function characterCount(control, entity, field) {
  const limit = schema.maxLength(entity, field);
  if (!limit) return control;
  const json = (schema.field(entity, field) || {}).type === "json";
  control.setAttribute("maxlength", String(json ? limit - 2 : limit));
  control.id = control.id || nextId("cc");
  const msgId = `${control.id}-count`;
  const msg = h("div", { class: "hs-hint hs-character-count__message", id: msgId, "aria-live": "polite",
                         "data-testid": "char-count", "data-limit": String(limit) });
  control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), msgId].filter(Boolean).join(" "));
  const left = () => limit - schema.measure(entity, field, control.value);
  const update = () => {
    const n = left();
    msg.textContent = n >= 0 ? `You have ${n} ${n === 1 ? "character" : "characters"} left`
      : `You have ${-n} ${n === -1 ? "character" : "characters"} too many`;
    msg.classList.toggle("hs-error-message", n < 0);
    msg.classList.toggle("hs-hint", n >= 0);
  };
  control.addEventListener("input", update);
  control.limitProblem = () => {
    const n = left();
    return n < 0 ? `This is ${-n} ${n === -1 ? "character" : "characters"} too long: the most it can hold is ${limit}. Shorten it to save it.` : null;
  };
  control.refreshCount = update;
  update();
  return h("div", { class: "hs-character-count" }, control, msg);
}

/** Show (or with no message, clear) an error at the control's form group (NHS.UK pattern):
 * the message under the label (or a fieldset's legend), a red border on the field, and the
 * message read out with the field (aria-describedby). */
export function fieldError(control, message) {
  const group = control.closest(".hs-form-group") || control.parentElement;
  if (!group) return;
  const choice = control.type === "radio" || control.type === "checkbox";
  const key = choice ? (control.closest("fieldset") || group) : control;
  key.id = key.id || nextId("fld");
  for (const old of group.querySelectorAll(`[data-field-error][data-for="${key.id}"]`)) old.remove();
  const errId = `${key.id}-error`;
  const described = (key.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== errId);
  group.classList.toggle("hs-form-group--error", !!message);
  if (!choice) control.classList.toggle(`${control.tagName === "SELECT" ? "hs-select" : control.tagName === "TEXTAREA" ? "hs-textarea" : "hs-input"}--error`, !!message);
  if (!message) {
    key.removeAttribute("aria-invalid");
    if (described.length) key.setAttribute("aria-describedby", described.join(" ")); else key.removeAttribute("aria-describedby");
    return;
  }
  if (!choice) control.setAttribute("aria-invalid", "true");
  key.setAttribute("aria-describedby", [errId, ...described].join(" "));
  const err = h("span", { class: "hs-error-message", id: errId, "data-field-error": "", "data-for": key.id, "data-testid": "field-error" },
    h("span", { class: "hs-visually-hidden" }, "Error: "), message);
  if (choice) {
    const fs = control.closest("fieldset");
    const after = fs && (fs.querySelector(":scope > .hs-hint") || fs.querySelector(":scope > legend"));
    if (after) { after.after(err); return; }
  }
  const hint = group.querySelector(":scope > .hs-hint");
  const label = group.querySelector(":scope > .hs-label, :scope > label");
  (hint || label) ? (hint || label).after(err) : group.prepend(err);
}

/** The one way a screen shows what stops a form: the error summary in `slot` (links to each
 * field) and the same message at each field. Earlier errors inside `scope` are cleared
 * first; with no problems nothing is shown. Returns whether there were any. */
export function showErrors(slot, problems, { scope = null } = {}) {
  const within = scope || slot.closest("form") || slot.closest("#app") || document;
  for (const el of within.querySelectorAll("[data-field-error]")) {
    const key = document.getElementById(el.dataset.for);
    const control = key && (key.matches("input, textarea, select") ? key : key.querySelector("input, textarea, select"));
    if (control) fieldError(control, null); else el.remove();
  }
  if (!problems || !problems.length) { slot.replaceChildren(); return false; }
  for (const p of problems) {
    const target = p.target || (p.href && p.href.startsWith("#") && p.href.length > 1 && document.getElementById(p.href.slice(1)));
    if (target && target.matches && target.matches("input, textarea, select")) fieldError(target, p.text);
  }
  slot.replaceChildren(errorSummary(problems));
  return true;
}

/** The problem that stops a value being saved (too long for the model), shown at the field. */
export function checkLimit(control) {
  const problem = control.limitProblem ? control.limitProblem() : null;
  fieldError(control, problem);
  return problem;
}

// A textarea that saves itself (debounced) and flushes on blur and before a lock. With
// `limit: [entity, field]` it shows the model's character count and never saves past it.
export function textArea({ label, hint, value, onSave, rows = 4, testid, labelClass = "hs-label", id, limit }) {
  id = id || nextId("ta");
  let timer = null;
  const area = h("textarea", { class: "hs-textarea", id, name: id, rows, "data-testid": testid,
                               "aria-describedby": hint ? `${id}-hint` : null });
  area.value = value || "";
  let saved = area.value;
  const flush = () => {
    clearTimeout(timer);
    if (area.value === saved) return null;
    if (checkLimit(area)) return null;
    saved = area.value;
    return Promise.resolve(onSave(area.value)).catch((err) => {
      if (err && err.name === "InvalidValue") { saved = null; fieldError(area, err.message); return; }
      throw err;
    });
  };
  area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(flush, 400); });
  area.addEventListener("blur", flush);
  area.flush = flush;
  return h("div", { class: "hs-form-group" },
    h("label", { class: labelClass, for: id }, label),
    hint ? h("div", { class: "hs-hint", id: `${id}-hint` }, hint) : null,
    limit ? characterCount(area, limit[0], limit[1]) : area);
}

// Screens register flushers so a pending debounced save is written before lock/navigation.
const flushers = new Set();
const pending = new Set();
export function registerFlush(fn) { flushers.add(fn); return () => flushers.delete(fn); }
// Saves still on their way to the encrypted store; awaited before leaving a page or signing.
export function trackSave(promise) {
  pending.add(promise);
  promise.finally(() => pending.delete(promise)).catch(() => {});
  return promise;
}
export async function flushAll() {
  for (const f of [...flushers]) await f();
  await Promise.allSettled([...pending]);
}
// Text typed a moment ago (still in its debounce) is written before the key is dropped.
lock.onBeforeLock(() => flushAll());

// -- screens that follow the records they show ------------------------------------------
// A screen returns follow([...entities]) from render() to be drawn again, quietly (focus and
// scroll kept), when a sync changes those records. Never under the person's hands: while a
// field has focus or a finger is down the refresh waits, so nothing typed or tapped is lost.
let pointerDown = false;
document.addEventListener("pointerdown", () => { pointerDown = true; }, true);
document.addEventListener("pointerup", () => { pointerDown = false; }, true);
document.addEventListener("pointercancel", () => { pointerDown = false; }, true);
const busy = () => {
  const el = document.activeElement;
  return pointerDown || (!!el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && !!el.closest("#app"));
};
export function follow(entities) {
  let timer = null;
  const later = () => { timer = null; if (busy()) timer = setTimeout(later, 1000); else rerender({ quiet: true }); };
  const off = model.subscribe(({ entity } = {}) => {
    if (entity && entity !== "*" && !entities.includes(entity)) return;
    if (!timer) timer = setTimeout(later, 0);
  });
  return () => { clearTimeout(timer); if (typeof off === "function") off(); };
}
