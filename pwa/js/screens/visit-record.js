// Before signing, the record a review would look for: what the practitioner decided and
// why, information shared (what, with whom, why; or why not), how the family was spoken
// with (a professional interpreter, never a family member or child) and each person's
// ethnicity. The visit's fields and the person's `ethnicity`, as the model declares them.
import { navigate } from "../router.js";
import * as schema from "../generated/model.js";
import { h, fill, screenTitle, tag, summaryList, personName, backLink, button, radios, textArea, warningCallout,
         characterCount, checkLimit, fieldError, trackSave, flushAll, registerFlush, statusLine, showErrors } from "./common.js";
import { model } from "./data.js";

const setFields = (entity, id, patch) => (model.setFields || model.update).call(model, entity, id, patch);
const filled = (v) => typeof v === "string" && v.trim() !== "";
const choiceOptions = (name) => schema.choices("visit", name).map((c) => ({ value: c.value, label: c.label, hint: c.hint }));

/** People seen at this visit who need an interpreter (the person's own record says so). */
export function needInterpreter(ctx) {
  return ctx.b.persons.filter((p) => p.interpreter_needed && ctx.present.has(p.id));
}

/** What stops signing: the record a review looks for is missing. A no-access visit has
 * nobody to decide with; its reasons are its own checklist. */
export function recordErrors(ctx) {
  const v = ctx.visit;
  if (v.no_access) return [];
  const href = `#/visit/${v.id}/record`;
  const errors = [];
  if (!filled(v.decisions)) errors.push({ text: "Record what you decided at this visit", href });
  if (!filled(v.rationale)) errors.push({ text: "Record why you made those decisions", href });
  if (!v.information_shared) errors.push({ text: "Say whether you shared information, and with whom", href });
  if (v.information_shared === "shared") {
    if (!filled(v.shared_what)) errors.push({ text: "Say what information you shared", href });
    if (!filled(v.shared_with)) errors.push({ text: "Say who you shared information with", href });
  }
  if ((v.information_shared === "shared" || v.information_shared === "not-shared") && !filled(v.shared_why)) {
    errors.push({ text: v.information_shared === "shared" ? "Say why you shared information" : "Say why you decided not to share", href });
  }
  const needs = needInterpreter(ctx);
  if (needs.length && !v.interpreter) {
    errors.push({ text: `Say how you spoke with ${needs.map(personName).join(" and ")}: an interpreter is needed`, href });
  }
  if (v.interpreter === "professional" && !filled(v.interpreter_language)) {
    errors.push({ text: "Say which language the interpreter used", href });
  }
  return errors;
}

/** People whose ethnicity is not recorded: a prompt, not a block (a person may not say). */
export function ethnicityMissing(ctx) {
  return ctx.b.persons.filter((p) => !filled(p.ethnicity));
}

const familyInterpreting = () => warningCallout("A family member, friend or child must not interpret",
  h("p", { class: "hs-body" }, "What was said cannot be relied on, and a child must never carry adults' words. Book a professional interpreter for the next contact and record what could not be discussed."),
  { "data-testid": "interpreter-warning" });
const source = (text) => h("p", { class: "hs-hint" }, `Source: ${text}`);

/** Decisions, sharing, interpreter and ethnicity as a summary (check your answers, signed). */
export function recordSummary(ctx, { changeLinks }) {
  const v = ctx.visit;
  const change = (what) => changeLinks
    ? h("a", { href: `#/visit/${v.id}/record` }, "Change", h("span", { class: "hs-visually-hidden" }, ` ${what}`)) : null;
  const missing = (text) => tag(text, "yellow");
  const rows = [];
  if (!v.no_access) {
    rows.push(["Decisions", filled(v.decisions) ? v.decisions : missing("Not recorded"), change("decisions")],
      ["Why", filled(v.rationale) ? v.rationale : missing("Not recorded"), change("the rationale")],
      ["Information shared", v.information_shared ? schema.label("visit", "information_shared", v.information_shared) : missing("Not recorded"),
        change("information shared")]);
    if (v.information_shared === "shared") {
      rows.push(["What was shared", v.shared_what || missing("Not recorded")], ["Shared with", v.shared_with || missing("Not recorded")]);
    }
    if (v.information_shared === "shared" || v.information_shared === "not-shared") {
      rows.push([v.information_shared === "shared" ? "Why it was shared" : "Why not", v.shared_why || missing("Not recorded")]);
    }
    rows.push(["Interpreter", v.interpreter
      ? h("span", {}, schema.label("visit", "interpreter", v.interpreter), v.interpreter_language ? ` (${v.interpreter_language})` : "")
      : (needInterpreter(ctx).length ? missing("Not recorded: an interpreter is needed") : "Not recorded"), change("the interpreter")]);
  }
  for (const p of ctx.b.persons) {
    rows.push([`Ethnicity: ${personName(p)}`, filled(p.ethnicity) ? p.ethnicity : missing("Not recorded"), change(`ethnicity of ${personName(p)}`)]);
  }
  return [h("h2", { class: "hs-h2" }, "Decisions, information shared, interpreter"),
    v.interpreter === "family-or-child" ? familyInterpreting() : null,
    summaryList(rows, { "data-testid": "summary-record" })];
}

export function renderRecord(root, ctx) {
  const { visit, b } = ctx;
  const status = statusLine({ "data-testid": "save-status" });
  const errorSlot = h("div", {});
  const save = (patch, entity = "visit", id = visit.id) => trackSave(Promise.resolve(setFields(entity, id, patch)).then(() => {
    if (entity === "visit") Object.assign(ctx.visit, patch);
    status.textContent = "Saved on this phone";
  }));
  const text = (field, label, hint, rows = 4) => textArea({ label, hint, value: visit[field], rows, testid: `record-${field}`,
    id: `record-${field}`, limit: ["visit", field], onSave: (val) => save({ [field]: val }) });

  const sharedWhat = text("shared_what", "What did you share?", "The information itself, not only that you shared it.", 3);
  const sharedWith = text("shared_with", "Who did you share it with?", "Name, role and agency: for example the GP, the school nurse, children's social care.", 2);
  const sharedWhy = text("shared_why", "Why?", "The reason for sharing, or for deciding not to, and whether consent was sought.", 3);
  const showSharing = () => {
    const s = visit.information_shared;
    sharedWhat.hidden = sharedWith.hidden = s !== "shared";
    sharedWhy.hidden = !(s === "shared" || s === "not-shared");
  };
  showSharing();

  const language = h("input", { class: "hs-input", id: "record-interpreter_language", type: "text", "data-testid": "record-interpreter_language",
                                on: { change: (ev) => { if (!checkLimit(ev.target)) save({ interpreter_language: ev.target.value.trim() || null }); } } });
  language.value = visit.interpreter_language || "";
  const languageGroup = h("div", { class: "hs-form-group" },
    h("label", { class: "hs-label", for: language.id }, "Language"), characterCount(language, "visit", "interpreter_language"));
  const warnSlot = h("div", { "aria-live": "polite" });
  const showInterpreter = () => {
    languageGroup.hidden = !visit.interpreter || visit.interpreter === "not-needed";
    warnSlot.replaceChildren(visit.interpreter === "family-or-child" ? familyInterpreting() : "");
  };
  showInterpreter();
  const needs = needInterpreter(ctx);

  const ethnicity = b.persons.map((p) => {
    const input = h("input", { class: "hs-input", id: `ethnicity-${p.id}`, type: "text", "data-testid": "record-ethnicity",
                               "data-person-id": p.id,
                               on: { change: (ev) => {
                                 if (checkLimit(ev.target)) return;
                                 const val = ev.target.value.trim() || null;
                                 p.ethnicity = val;
                                 save({ ethnicity: val }, "person", p.id).catch((err) => {
                                   if (err && err.name === "InvalidValue") fieldError(ev.target, err.message); else throw err;
                                 });
                               } } });
    input.value = p.ethnicity || "";
    return h("div", { class: "hs-form-group" },
      h("label", { class: "hs-label", for: input.id }, personName(p)), characterCount(input, "person", "ethnicity"));
  });

  fill(root,
    backLink("Visit tasks", `#/visit/${visit.id}`),
    errorSlot,
    ...screenTitle("Decisions, sharing and interpreter", { caption: `${b.family.family_name} family` }),
    h("form", { class: "hs-form", novalidate: "", "data-testid": "record-form", on: { submit: (ev) => ev.preventDefault() } },
      h("h2", { class: "hs-h2" }, "Your decisions"),
      text("decisions", "What did you decide at this visit?", "For example: the plan agreed, a referral, a follow-up, or that no further action is needed."),
      text("rationale", "Why?", "The reasons for each decision, from what you saw and heard. Keep facts apart from your judgement."),
      source("The 10 Principles: 1, keep clear and detailed records (decisions and their rationale)"),
      h("h2", { class: "hs-h2" }, "Information sharing"),
      radios({ legend: "Did you share information about this family with anyone?", name: "information_shared",
               options: choiceOptions("information_shared"), value: visit.information_shared || null, testid: "record-information_shared",
               onChange: (val) => {
                 // A hidden answer is cleared, so the record never keeps what the practitioner cannot see.
                 const patch = { information_shared: val };
                 if (val !== "shared") Object.assign(patch, { shared_what: null, shared_with: null });
                 if (val === "nothing-to-share") patch.shared_why = null;
                 for (const [f, el] of [["shared_what", sharedWhat], ["shared_with", sharedWith], ["shared_why", sharedWhy]]) {
                   if (f in patch) el.querySelector("textarea").value = "";
                 }
                 save(patch); visit.information_shared = val; showSharing();
               } }),
      sharedWhat, sharedWith, sharedWhy,
      source("The 10 Principles: 1, keep clear and detailed records (what was shared, with whom, for what purpose, or why not)"),
      h("h2", { class: "hs-h2" }, "Interpreter"),
      radios({ legend: "How did you speak with the family?", name: "interpreter", options: choiceOptions("interpreter"),
               hint: needs.length ? `${needs.map((p) => `${personName(p)} needs an interpreter${p.language ? ` (${p.language})` : ""}`).join("; ")}.`
                 : "Use a professional interpreter, never a family member, friend or child.",
               value: visit.interpreter || null, testid: "record-interpreter",
               onChange: (val) => {
                 const patch = { interpreter: val };
                 if (val === "not-needed") { patch.interpreter_language = null; language.value = ""; }
                 save(patch); visit.interpreter = val; showInterpreter();
               } }),
      warnSlot,
      languageGroup,
      source("NICE NG76 1.1.2 (an interpreter who is not a family member); LLR key practice points: working with diverse communities"),
      h("h2", { class: "hs-h2" }, "Ethnicity"),
      h("p", { class: "hs-body" }, "As each person describes it. If someone prefers not to say, record \"Not stated\"."),
      ...ethnicity,
      source("LLR key practice points: working with diverse communities (the ethnicity of the child and related adults)")),
    status,
    h("div", { class: "hs-button-group" },
      button("Save and return to tasks", async () => {
        await flushAll();
        const problems = [...root.querySelectorAll("textarea, input[type=text]")].map((c) => [c, checkLimit(c)]).filter(([, p]) => p);
        if (problems.length) {
          showErrors(errorSlot, problems.map(([c, p]) => ({ text: p, href: `#${c.id}`, target: c })));
          return;
        }
        navigate(`#/visit/${visit.id}`);
      }, { "data-testid": "record-done" })),
  );
  const off = registerFlush(async () => { for (const ta of root.querySelectorAll("textarea")) if (ta.flush) await ta.flush(); });
  return () => off();
}
