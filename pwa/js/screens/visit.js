// The visit: a task-list hub -> who is present -> the checklists for each child and carer
// -> observations -> check your answers (with what the visit will raise) -> sign.
// A no-access visit has its own short path. A signed visit is read-only; corrections are
// addenda. Every answer is written through the model as it is given (encrypted autosave).
import * as sync from "../sync.js";
import * as ui from "../ui.js";
import { navigate, rerender } from "../router.js";
import { h, fill, screenTitle, tag, summaryList, fmtDay, fmtDayTime, todayKey, dayKey, visitTypeLabel, roleLabel,
         personName, backLink, button, taskList, showErrors, radios, textArea, emptyState, insetText,
         warningCallout, registerFlush, flushAll, trackSave, checkLimit, statusLine } from "./common.js";
import { familyBundle, get, me, model, list } from "./data.js";
import { subjectsFor, visitTasks, responseIndex, visibleItems, taskStatus, missingRequired, buildFacts,
         AGE_BAND_LABELS, ageLabel, answered, condHolds } from "./visit-facts.js";
import { renderItem, answerLabel } from "./visit-items.js";
import { flagBlock } from "./flag-view.js";
import { confirmSigning } from "./visit-confirm.js";
import { namer } from "./staff.js";
import { evaluateVisit, recordingWarnings, outcomeView, warningsView } from "./visit-outcome.js";
import { refusedSection, refusedNote } from "./refused-view.js";
import { conflictNote } from "./conflicts.js";
import * as refused from "../refused.js";
import { OBS_KINDS, kindLabel, refusedOpts, visitSync } from "./visit-entries.js";
import { renderObservations, recordingContext } from "./visit-observations.js";
import { renderRecord, recordErrors, recordSummary, ethnicityMissing } from "./visit-record.js";
import { confirmOnPerson, nowView } from "./visit-alerts.js";

export { OBS_KINDS };

let justSigned = null;

const setFields = (entity, id, patch) => (model.setFields || model.update).call(model, entity, id, patch);
const responseId = (...parts) => (model.responseId || model.stableId).call(model, ...parts);
const nowIso = () => new Date().toISOString();
const setInProgress = (on) => { if (typeof ui.setVisitInProgress === "function") ui.setVisitInProgress(on); };

// Saves for one response key run one after another, so a fast double tap cannot create twice.
const queues = new Map();
function enqueue(key, fn) {
  const prev = queues.get(key) || Promise.resolve();
  const next = prev.then(fn, fn);
  queues.set(key, next.catch(() => {}));
  return trackSave(next);
}

async function load(visitId) {
  const visit = await get("visit", visitId);
  if (!visit) return null;
  const [b, content, user] = await Promise.all([familyBundle(visit.family_id), model.content(), me()]);
  const date = visit.status === "completed" ? dayKey(visit.completed_at || visit.planned_for) : todayKey();
  const subjects = subjectsFor(b.persons, b.relationships, date);
  const responses = b.responsesByVisit.get(visit.id) || [];
  const ctx = {
    visit, b, content, user, date, subjects, idx: responseIndex(responses),
    byId: new Map(b.persons.map((p) => [p.id, p])),
    observations: b.observations.filter((o) => o.visit_id === visit.id),
    addenda: b.addenda.filter((a) => a.visit_id === visit.id),
    present: new Set(Array.isArray(visit.present) ? visit.present : []),
  };
  const seenBefore = new Map();
  for (const v of b.visits) {
    if (v.id === visit.id || v.status !== "completed" || v.no_access) continue;
    for (const pid of Array.isArray(v.present) ? v.present : []) seenBefore.set(pid, (seenBefore.get(pid) || 0) + 1);
  }
  ctx.tasks = visitTasks(content, subjects, { noAccess: !!visit.no_access, seenBefore });
  // Everything recorded at this visit, for its refused entries and its sync status.
  ctx.ids = new Set([visit.id, ...responses.map((r) => r.id), ...ctx.observations.map((o) => o.id), ...ctx.addenda.map((a) => a.id)]);
  ctx.refused = refused.records((r) => ctx.ids.has(r.id) || r.values.visit_id === visit.id);
  ctx.conflicts = (await list("conflict")).filter((c) => c.status !== "resolved" && ctx.ids.has(c.entity_id));
  return ctx;
}


const taskHref = (ctx, t) => `#/visit/${ctx.visit.id}/checklist/${t.checklist.id}/${t.subjectId}`;
function subjectLabel(ctx, s) {
  if (!s) return "The visit";
  const p = s.person || ctx.byId.get(s.id);
  if (s.kind === "child") return `${personName(p)} (${ageLabel(p, ctx.date) || AGE_BAND_LABELS[s.age_band] || roleLabel(p.role)})`;
  return `${personName(p)} (${roleLabel(p.role).toLowerCase()})`;
}

export async function render(root, params) {
  const visitId = params.visitId || params.id;
  const ctx = await load(visitId);
  if (!ctx) {
    fill(root, ...screenTitle("Visit not found"),
      h("p", { class: "hs-body" }, "This visit is not on this phone."), backLink("Today", "#/today"));
    return;
  }
  const step = params.step || (params.checklistId ? "checklist" : "hub");
  // However the visit was reopened (reload, unlock, a link), an update must not interrupt it.
  if (ctx.visit.status === "in-progress") setInProgress(true);
  let cleanup = null;
  if (ctx.visit.status === "completed") {
    cleanup = await renderSigned(root, ctx);
  } else if (step === "presence") {
    cleanup = renderPresence(root, ctx);
  } else if (step === "checklist") {
    cleanup = renderChecklist(root, ctx, params.checklistId, params.subjectId);
  } else if (step === "observations") {
    cleanup = await renderObservations(root, ctx);
  } else if (step === "record") {
    cleanup = renderRecord(root, ctx);
  } else if (step === "check") {
    cleanup = await renderCheck(root, ctx);
  } else if (step === "no-access" || ctx.visit.no_access) {
    cleanup = await renderNoAccess(root, ctx);
  } else {
    renderHub(root, ctx);
  }
  return async () => {
    await flushAll();
    if (typeof cleanup === "function") cleanup();
  };
}

// -- hub ----------------------------------------------------------------------------------

function renderHub(root, ctx) {
  const { visit, b } = ctx;
  const started = visit.status === "in-progress";
  fill(root, 
    backLink(`${b.family.family_name} family`, `#/family/${visit.family_id}`),
    ...screenTitle(visitTypeLabel(visit.type), { caption: `${b.family.family_name} family · ${fmtDay(visit.planned_for)}` }),
    refusedSection(ctx.refused, refusedOpts(ctx)));

  if (!started) {
    fill(root, 
      h("p", { class: "hs-body" }, "Start the visit when you are with the family. Everything you record is saved on this phone, encrypted, as you go."),
      h("div", { class: "hs-button-group" },
        button("Start visit", async () => {
          // A second tap (or a second screen) finds it started and only goes on.
          const now = await model.get("visit", visit.id);
          if (now && now.status === "planned") await setFields("visit", visit.id, { status: "in-progress", started_at: nowIso() });
          setInProgress(true);
          navigate(`#/visit/${visit.id}/presence`);
        }, { "data-testid": "start" }),
        button("Record no access", async () => {
          await setFields("visit", visit.id, { status: "in-progress", started_at: nowIso(), no_access: true, present: [] });
          setInProgress(true);
          navigate(`#/visit/${visit.id}/no-access`);
        }, { secondary: true, "data-testid": "no-access" })));
    return;
  }
  setInProgress(true);
  const presenceDone = ctx.present.size > 0;
  const absentCarers = new Set(ctx.subjects.filter((s) => s.kind === "carer" && !ctx.present.has(s.id)).map((s) => s.id));
  const checklistItems = ctx.tasks.map((t) => ({
    text: `${t.checklist.title}: ${t.subject ? personName(ctx.byId.get(t.subject.id)) : "the visit"}`,
    hint: t.subject ? (t.subject.kind === "child" ? AGE_BAND_LABELS[t.subject.age_band] || "Child" : roleLabel(ctx.byId.get(t.subject.id).role))
      + (absentCarers.has(t.subjectId) ? " – not seen at this visit" : "") : null,
    href: presenceDone ? taskHref(ctx, t) : null,
    status: presenceDone ? taskStatus(t, ctx.idx) : "cannot-start",
    testid: `task-${t.checklist.id}-${t.subjectId}`,
  }));
  const obsCount = ctx.observations.length;
  fill(root, 
    h("h2", { class: "hs-h2" }, "1. Who is here"),
    taskList([{ text: "Who is present", href: `#/visit/${visit.id}/presence`, status: presenceDone ? "completed" : "not-started",
                testid: "task-presence",
                hint: presenceDone ? `${ctx.present.size} of ${ctx.b.persons.length} seen` : "Each person: seen or not seen" }]),
    h("h2", { class: "hs-h2" }, "2. Checklists"),
    checklistItems.length ? taskList(checklistItems, { "data-testid": "checklist-tasks" })
      : emptyState(ctx.content ? "No checklist applies to this family at this visit." : "Checklists have not reached this phone yet: sync when you have signal."),
    h("h2", { class: "hs-h2" }, "3. Observations"),
    taskList([{ text: "Observations", href: `#/visit/${visit.id}/observations`, status: obsCount ? "completed" : "not-started",
                testid: "task-observations", hint: obsCount ? `${obsCount} recorded` : "Facts, judgements, the child's own words, parents' views, analysis" }]),
    h("h2", { class: "hs-h2" }, "4. Decisions and information sharing"),
    taskList([{ text: "Decisions, sharing and interpreter", href: presenceDone ? `#/visit/${visit.id}/record` : null,
                status: !presenceDone ? "cannot-start" : recordErrors(ctx).length ? "not-started" : "completed", testid: "task-record",
                hint: "What you decided and why, information shared, the interpreter, each person's ethnicity" }]),
    h("h2", { class: "hs-h2" }, "5. Check and sign"),
    taskList([{ text: "Check your answers and sign", href: presenceDone ? `#/visit/${visit.id}/check` : null,
                status: presenceDone ? "not-started" : "cannot-start", testid: "task-check" }]),
    presenceDone ? null : h("p", { class: "hs-body" },
      h("a", { href: `#/visit/${visit.id}/no-access`, "data-testid": "switch-no-access",
               on: { click: async (ev) => { ev.preventDefault(); await setFields("visit", visit.id, { no_access: true, present: [] }); navigate(`#/visit/${visit.id}/no-access`); } } },
        "You could not get in: record no access instead")),
  );
}

// -- presence -----------------------------------------------------------------------------

function renderPresence(root, ctx) {
  const { visit, b } = ctx;
  const answers = new Map();
  // Once anyone is recorded as seen, everyone else in the list has been answered "not seen".
  for (const p of b.persons) if (ctx.present.size) answers.set(p.id, ctx.present.has(p.id) ? "seen" : "not-seen");
  const errorSlot = h("div", {});
  const status = statusLine({ "data-testid": "save-status" });

  const save = async () => {
    const present = b.persons.filter((p) => answers.get(p.id) === "seen").map((p) => p.id);
    await trackSave(setFields("visit", visit.id, { present }));
    ctx.present = new Set(present);
    status.textContent = "Saved on this phone";
  };

  const groups = b.persons.map((p) => {
    const rels = b.relationships.filter((r) => r.adult_id === p.id).map((r) => `${r.relationship} of ${personName(ctx.byId.get(r.child_id))}`);
    const g = radios({
      legend: personName(p), name: `presence-${p.id}`, small: true,
      hint: [roleLabel(p.role), ...rels].join(" · ") + (p.lives_in_household === false ? " · does not live here" : ""),
      options: [{ value: "seen", label: "Seen at this visit" }, { value: "not-seen", label: "Not seen" }],
      value: answers.get(p.id) || null, testid: "presence-person",
      onChange: (v) => { answers.set(p.id, v); save(); },
    });
    g.dataset.personId = p.id;
    g.id = `presence-${p.id}`;
    return g;
  });

  fill(root, 
    backLink("Visit tasks", `#/visit/${visit.id}`),
    errorSlot,
    ...screenTitle("Who is present", { caption: `${b.family.family_name} family` }),
    h("p", { class: "hs-body" }, "For each person, say whether you saw them at this visit. \"Not seen\" is an answer in its own right: it shows who the record has not heard from."),
    ...groups,
    status,
    button("Save and continue", async () => {
      await flushAll();
      const missing = b.persons.filter((p) => !answers.get(p.id));
      if (missing.length) {
        showErrors(errorSlot, missing.map((p) => ({
          text: `Say whether you saw ${personName(p)}`,
          href: `#presence-${p.id}`, target: document.querySelector(`#presence-${p.id} input`) })));
        return;
      }
      if (!b.persons.some((p) => answers.get(p.id) === "seen")) {
        showErrors(errorSlot, [{ text: "Nobody was seen: record this as a no-access visit instead",
                                                  href: `#/visit/${visit.id}/no-access` }]);
        return;
      }
      navigate(`#/visit/${visit.id}`);
    }, { "data-testid": "presence-continue" }),
  );
}

// -- one checklist for one subject --------------------------------------------------------

function saver(ctx, task, item, onSaved) {
  const key = `${task.checklist.id}|${task.subjectId}|${item.id}`;
  return (patch) => enqueue(key, async () => {
    let rec = ctx.idx.get(key);
    if (!rec) {
      // A visit-level answer names the visit itself as its subject (the server accepts a
      // person of the family or the response's own visit there).
      const subjectId = task.subject ? task.subjectId : ctx.visit.id;
      const id = await responseId(ctx.visit.id, task.checklist.id, task.subjectId, item.id);
      const existing = await get("checklist_response", id);
      if (existing && !existing.deleted && !existing._deleted) {
        await setFields("checklist_response", id, patch);
        rec = { ...existing, ...patch };
      } else {
        const values = {
          family_id: ctx.visit.family_id, visit_id: ctx.visit.id, checklist_id: task.checklist.id,
          checklist_version: task.checklist.version, subject_id: subjectId, item_id: item.id,
          answer: null, note: null, seen_or_told: null, ...patch,
        };
        await model.create("checklist_response", values, { familyId: ctx.visit.family_id, id });
        rec = { id, ...values };
      }
    } else {
      await setFields("checklist_response", rec.id, patch);
      rec = { ...rec, ...patch };
    }
    ctx.idx.set(key, rec);
    if (onSaved) await onSaved(item);
  });
}

function renderChecklist(root, ctx, checklistId, subjectId) {
  const task = ctx.tasks.find((t) => t.checklist.id === checklistId && t.subjectId === subjectId);
  if (!task) {
    fill(root, ...screenTitle("Checklist not found"), backLink("Visit tasks", `#/visit/${ctx.visit.id}`));
    return null;
  }
  const c = task.checklist;
  const status = statusLine({ "data-testid": "save-status" });
  const containers = new Map();
  const gradeScale = (ctx.content && ctx.content.grade_scale) || [];

  const now = h("div", {});
  const showNow = async () => now.replaceChildren(nowView(await outcomeFor(ctx), task));
  const onSaved = async (item) => {
    status.textContent = "Saved on this phone";
    await refreshVisibility();
    await confirmOnPerson(ctx, task, item, ctx.idx.get(`${c.id}|${task.subjectId}|${item.id}`));
    // Next to the answer just given, where the practitioner's eyes are.
    const el = containers.get(item.id);
    if (el && !el.hidden) el.after(now);
    await showNow();
  };
  // An answer a now-hidden question still holds would feed the rules unseen: clear it.
  async function refreshVisibility() {
    const visible = new Set(visibleItems(task, ctx.idx).map((i) => i.id));
    for (const item of task.items) {
      const el = containers.get(item.id);
      const show = visible.has(item.id);
      if (el.hidden === show) el.hidden = !show;
      const rec = ctx.idx.get(`${c.id}|${task.subjectId}|${item.id}`);
      if (!show && rec && (answered(rec.answer) || rec.seen_or_told)) {
        await saver(ctx, task, item, null)({ answer: null, seen_or_told: null });
        const fresh = renderItem(item, ctx.idx.get(`${c.id}|${task.subjectId}|${item.id}`), saver(ctx, task, item, onSaved), { gradeScale });
        fresh.hidden = true;
        el.replaceWith(fresh);
        containers.set(item.id, fresh);
      }
    }
  }

  const form = h("form", { class: "hs-form", novalidate: "", "data-testid": "checklist-form", "data-checklist": c.id, "data-subject": task.subjectId,
                            on: { submit: (ev) => ev.preventDefault() } });
  let section = null;
  for (const item of task.items) {
    if (item.section && item.section !== section) {
      section = item.section;
      const s = (c.sections || []).find((x) => x.id === section);
      if (s) fill(form, h("h2", { class: "hs-h2" }, s.title), s.guidance ? h("p", { class: "hs-hint" }, s.guidance) : null);
    }
    const rec = ctx.idx.get(`${c.id}|${task.subjectId}|${item.id}`);
    const el = renderItem(item, rec, saver(ctx, task, item, onSaved), { gradeScale });
    const notTaken = rec && ctx.refused.find((r) => r.id === rec.id);
    if (notTaken) el.prepend(refusedNote(notTaken, { href: `#/visit/${ctx.visit.id}` }));
    const undecided = rec && ctx.conflicts.find((x) => x.entity_id === rec.id);
    if (undecided) el.prepend(conflictNote(undecided));
    el.hidden = !condHolds(item.show_if, c, task.subjectId, ctx.idx);
    containers.set(item.id, el);
    fill(form, el);
  }
  const subject = task.subject;
  const notSeen = subject && !ctx.present.has(subject.id);

  fill(root, 
    backLink("Visit tasks", `#/visit/${ctx.visit.id}`),
    ...screenTitle(c.title, { caption: subject ? subjectLabel(ctx, subject) : `${ctx.b.family.family_name} family` }),
    notSeen ? insetText(h("p", { class: "hs-body" }, `${personName(ctx.byId.get(subject.id))} is recorded as not seen at this visit. Answer what you know, or "not known".`)) : null,
    c.description ? h("details", { class: "hs-details" },
      h("summary", { class: "hs-details__summary" }, h("span", { class: "hs-details__summary-text" }, "About this checklist")),
      h("div", { class: "hs-details__text" }, h("p", { class: "hs-body" }, c.description),
        c.source ? h("p", { class: "hs-hint" }, `Source: ${c.source}`) : null)) : null,
    now,
    form,
    status,
    h("div", { class: "hs-button-group" },
      button("Save and return to tasks", async () => { await flushAll(); navigate(`#/visit/${ctx.visit.id}`); }, { "data-testid": "checklist-done" })),
  );
  showNow();
  const flush = async () => { for (const ta of form.querySelectorAll("textarea")) if (ta.flush) await ta.flush(); };
  const off = registerFlush(flush);
  return () => off();
}

// -- check your answers and sign -----------------------------------------------------------

function answersSummary(ctx, { changeLinks }) {
  const out = [];
  if (!ctx.visit.no_access) {
    out.push(h("h2", { class: "hs-h2" }, "Who was present"),
      summaryList(ctx.b.persons.map((p) => [personName(p), ctx.present.has(p.id) ? "Seen" : tag("Not seen", "yellow"),
        changeLinks ? h("a", { href: `#/visit/${ctx.visit.id}/presence` }, "Change", h("span", { class: "hs-visually-hidden" }, ` whether ${personName(p)} was seen`)) : null]),
      { "data-testid": "summary-presence" }));
  }
  for (const t of ctx.tasks) {
    // Unanswered optional questions are left out: the summary is what was recorded.
    const items = visibleItems(t, ctx.idx).filter((i) => {
      const r = ctx.idx.get(`${t.checklist.id}|${t.subjectId}|${i.id}`);
      return i.required || (r && (answered(r.answer) || r.note));
    });
    out.push(h("h2", { class: "hs-h2" }, `${t.checklist.title}${t.subject ? ": " + personName(ctx.byId.get(t.subject.id)) : ""}`));
    if (!items.length) {
      out.push(h("p", { class: "hs-body hs-empty" }, "Nothing recorded. ",
        changeLinks ? h("a", { href: taskHref(ctx, t) }, "Open this checklist", h("span", { class: "hs-visually-hidden" }, `: ${t.checklist.title}`)) : null));
      continue;
    }
    out.push(
      summaryList(items.map((i) => {
        const r = ctx.idx.get(`${t.checklist.id}|${t.subjectId}|${i.id}`);
        const parts = [answerLabel(i, r ? r.answer : null, (ctx.content && ctx.content.grade_scale) || [])];
        if (r && r.seen_or_told) parts.push(` (${r.seen_or_told})`);
        if (r && ctx.refused.some((x) => x.id === r.id)) parts.push(" ", tag("Not accepted by the server", "red", { "data-testid": "answer-refused" }));
        if (r && ctx.conflicts.some((x) => x.entity_id === r.id)) parts.push(" ", tag("Needs a decision", "yellow", { "data-testid": "answer-conflict" }));
        return [i.prompt, h("span", {}, ...parts, r && r.note ? h("span", { class: "hs-hint hs-block" }, `Note: ${r.note}`) : null),
          changeLinks ? h("a", { href: taskHref(ctx, t) }, "Change", h("span", { class: "hs-visually-hidden" }, ` ${i.prompt}`)) : null];
      }), { "data-testid": "summary-checklist", "data-checklist": t.checklist.id }));
  }
  return out;
}

async function outcomeFor(ctx) {
  const facts = buildFacts({
    visit: { ...ctx.visit, present: [...ctx.present] }, persons: ctx.b.persons, relationships: ctx.b.relationships,
    others: ctx.b.visits, responsesByVisit: new Map([...ctx.b.responsesByVisit, [ctx.visit.id, [...ctx.idx.values()]]]),
    today: ctx.date,
  });
  return evaluateVisit(ctx.content, facts);
}

async function allWarnings(ctx) {
  const items = [];
  for (const o of ctx.observations) {
    for (const w of await recordingWarnings(ctx.content, o.text, recordingContext(ctx, o.about_person_id, o.kind))) {
      items.push({ where: `Observation (${kindLabel(o.kind)})`, warning: w, href: `#/visit/${ctx.visit.id}/observations` });
    }
  }
  for (const t of ctx.tasks) {
    for (const i of visibleItems(t, ctx.idx)) {
      if (i.type !== "free-text" && i.type !== "child-words") continue;
      const r = ctx.idx.get(`${t.checklist.id}|${t.subjectId}|${i.id}`);
      if (!r || !answered(r.answer)) continue;
      const kind = i.type === "child-words" ? "child-words" : i.records || null;
      const about = t.subject && t.subject.kind === "child" ? t.subject.id : null;
      for (const w of await recordingWarnings(ctx.content, r.answer, recordingContext(ctx, about, kind))) {
        items.push({ where: i.prompt, warning: w, href: taskHref(ctx, t) });
      }
    }
  }
  return items;
}

function signErrors(ctx) {
  const errors = [];
  if (!ctx.visit.no_access && ctx.present.size === 0) {
    errors.push({ text: "Record who was present", href: `#/visit/${ctx.visit.id}/presence` });
  }
  errors.push(...recordErrors(ctx));
  for (const t of ctx.tasks) {
    // Carers who were not seen cannot be asked; children always need an answer (even "no").
    if (t.subject && t.subject.kind === "carer" && !ctx.present.has(t.subject.id)) continue;
    for (const i of missingRequired(t, ctx.idx)) {
      errors.push({ text: `${t.checklist.title}${t.subject ? " for " + personName(ctx.byId.get(t.subject.id)) : ""}: answer "${i.prompt}"`,
                    href: taskHref(ctx, t) });
    }
  }
  return errors;
}

async function signVisit(ctx, root, errorSlot, confirmed = false) {
  await flushAll();
  const fresh = await load(ctx.visit.id);
  const errors = signErrors(fresh);
  if (errors.length) {
    showErrors(errorSlot, errors);
    return;
  }
  if (fresh.visit.status === "completed") { navigate(`#/visit/${ctx.visit.id}`); return; }
  if (!confirmed) {
    showErrors(errorSlot, []);
    errorSlot.replaceChildren(confirmSigning(await outcomeFor(fresh), fresh.byId, {
      noAccess: !!fresh.visit.no_access,
      onConfirm: () => signVisit(ctx, root, errorSlot, true),
      onCancel: () => errorSlot.replaceChildren(),
    }));
    return;
  }
  await setFields("visit", ctx.visit.id, { status: "completed", completed_at: nowIso(), signed_by: ctx.user ? ctx.user.user_id : null });
  setInProgress(false);
  justSigned = ctx.visit.id;
  // Sync as soon as it is signed; offline this returns at once and the outbox keeps it.
  Promise.resolve(sync.now()).catch(() => {});
  navigate(`#/visit/${ctx.visit.id}`);
}

async function renderCheck(root, ctx) {
  const errorSlot = h("div", {});
  const [outcome, warnings] = await Promise.all([outcomeFor(ctx), allWarnings(ctx)]);
  fill(root, 
    backLink("Visit tasks", `#/visit/${ctx.visit.id}`),
    errorSlot,
    ...screenTitle("Check your answers before signing", { caption: `${ctx.b.family.family_name} family · ${visitTypeLabel(ctx.visit.type)}` }),
    refusedSection(ctx.refused, refusedOpts(ctx)),
    outcomeView(outcome, ctx.byId, { heading: "What this visit will raise" }),
    warningsView([...warnings, ...ethnicityMissing(ctx).map((p) => ({ where: `Ethnicity: ${personName(p)}`,
      warning: { code: "ethnicity-not-recorded", message: "Not recorded. Ask, and record it as the person describes it (or \"Not stated\").",
                 source: "LLR key practice points: working with diverse communities" }, href: `#/visit/${ctx.visit.id}/record` }))]),
    ...answersSummary(ctx, { changeLinks: true }),
    ...recordSummary(ctx, { changeLinks: true }),
    h("h2", { class: "hs-h2" }, "Observations"),
    ctx.observations.length
      ? h("ul", { class: "hs-list hs-list--bordered" }, ctx.observations.map((o) => h("li", {},
          tag(kindLabel(o.kind), "grey"), " ", h("span", { class: "hs-body" }, o.text))))
      : emptyState("No observations recorded."),
    h("p", { class: "hs-body" }, h("a", { href: `#/visit/${ctx.visit.id}/observations` }, "Add or amend observations")),
    h("h2", { class: "hs-h2" }, "Now sign the visit"),
    h("p", { class: "hs-body" }, "By signing you confirm this is an accurate record of the visit. After signing it cannot be changed; corrections are added as addenda."),
    button("Sign and complete visit", () => signVisit(ctx, root, errorSlot), { "data-testid": "sign" }),
  );
}

// -- no access ----------------------------------------------------------------------------

async function renderNoAccess(root, ctx) {
  const { visit, b } = ctx;
  const errorSlot = h("div", {});
  const outcomeSlot = h("div", {});
  const refreshOutcome = async () => outcomeSlot.replaceChildren(outcomeView(await outcomeFor(ctx), ctx.byId));
  const body = [];
  for (const t of ctx.tasks) {
    for (const item of t.items) {
      const el = renderItem(item, ctx.idx.get(`${t.checklist.id}|${t.subjectId}|${item.id}`),
        saver(ctx, t, item, refreshOutcome), { gradeScale: (ctx.content && ctx.content.grade_scale) || [] });
      body.push(el);
    }
  }
  if (!ctx.tasks.length) {
    // No visit-level checklist on this phone: still record what happened, in the summary.
    body.push(textArea({ label: "What happened?", hint: "What you saw and heard at the door, and any contact since.",
                         value: visit.summary, testid: "no-access-summary", limit: ["visit", "summary"],
                         onSave: (v) => setFields("visit", visit.id, { summary: v }) }));
  }
  await refreshOutcome();
  fill(root, 
    backLink(`${b.family.family_name} family`, `#/family/${visit.family_id}`),
    errorSlot,
    ...screenTitle("No access", { caption: `${b.family.family_name} family · ${visitTypeLabel(visit.type)} · ${fmtDay(visit.planned_for)}` }),
    refusedSection(ctx.refused, refusedOpts(ctx)),
    h("form", { class: "hs-form", novalidate: "", "data-testid": "no-access-form", on: { submit: (ev) => ev.preventDefault() } }, ...body),
    outcomeSlot,
    h("h2", { class: "hs-h2" }, "Now sign the record"),
    h("p", { class: "hs-body" }, "Signing records this visit as no access. It cannot be changed afterwards; corrections are added as addenda."),
    h("div", { class: "hs-button-group" },
      button("Sign no-access visit", () => signVisit(ctx, root, errorSlot), { "data-testid": "sign" }),
      button("We did get in: back to the visit", async () => {
        await setFields("visit", visit.id, { no_access: false });
        navigate(`#/visit/${visit.id}`);
      }, { secondary: true, "data-testid": "undo-no-access" })),
  );
  const off = registerFlush(async () => { for (const ta of root.querySelectorAll("textarea")) if (ta.flush) await ta.flush(); });
  return () => off();
}

// -- a signed visit: read-only, with addenda ------------------------------------------------

async function renderSigned(root, ctx) {
  const { visit, b, user } = ctx;
  setInProgress(false);
  const signedNow = justSigned === visit.id;
  justSigned = null;
  const raisedFollowUps = b.followUps.filter((f) => f.visit_id === visit.id);
  const raisedFlags = b.flags.filter((f) => f.visit_id === visit.id);
  const name = await namer();
  let outcomeEl;
  if (raisedFollowUps.length || raisedFlags.length) {
    outcomeEl = outcomeView({
      follow_ups: raisedFollowUps.map((f) => ({ rule: f.rule_id, subject: f.subject_id, text: f.text, assigneeName: name(f.assignee_id),
                                                 due: (f.due_at || "").slice(0, 10), due_in_days: null })),
      flags: raisedFlags.map((f) => ({ rule: f.rule_id, subject: f.subject_id, severity: f.severity, reason: f.reason })),
    }, ctx.byId, { heading: "Raised by this visit",
                   flagBlocks: raisedFlags.map((f) => flagBlock(f, { name, byId: ctx.byId, raised: visit.completed_at, level: 4 })) });
  } else {
    outcomeEl = outcomeView(await outcomeFor(ctx), ctx.byId, { heading: "Raised by this visit (confirmed by the server after sync)" });
  }
  const errorSlot = h("div", {});
  // The addendum being written is an encrypted draft, so a lock never loses it.
  const draftId = `addendum-draft:${visit.id}`;
  const draft = model.loadDraft ? await model.loadDraft(draftId).catch(() => null) : null;
  const addText = textArea({ label: "Add an addendum", hint: "A correction or something learned after signing. It is added to the record with the date and your name; the signed record is not changed.",
                             value: (draft && draft.text) || "", testid: "addendum-text", id: "addendum-text",
                             limit: ["addendum", "text"],
                             onSave: (v) => model.saveDraft && trackSave(model.saveDraft(draftId, { text: v, moving: [...moving].map(([id, entity]) => ({ id, entity })) }).catch(() => {})) });
  // A refused answer moved into the addendum: let it go once the addendum is saved.
  const moving = new Map(((draft && draft.moving) || []).map((m) => [m.id, m.entity]));
  const toAddendum = (text, r) => {
    const ta = addText.querySelector("textarea");
    ta.value = ta.value.trim() ? `${ta.value.trim()}\n\n${text}` : text;
    ta.refreshCount();
    moving.set(r.id, r.entity);
    const moved = [...moving].map(([id, entity]) => ({ id, entity }));
    if (model.saveDraft) trackSave(model.saveDraft(draftId, { text: ta.value, moving: moved }).catch(() => {}));
    ta.focus();
    ta.scrollIntoView({ block: "center" });
  };
  fill(root, 
    backLink(`${b.family.family_name} family`, `#/family/${visit.family_id}`),
    signedNow ? h("div", { class: "hs-panel hs-panel--confirmation", role: "status", "data-testid": "signed-panel" },
      h("h2", { class: "hs-panel__title" }, "Visit signed"),
      h("p", { class: "hs-body" }, "It is saved on this phone and will be sent when there is a connection.")) : null,
    errorSlot,
    ...screenTitle(visit.no_access ? "No-access visit" : visitTypeLabel(visit.type), { caption: `${b.family.family_name} family · ${fmtDay(visit.completed_at || visit.planned_for)}` }),
    h("p", { class: "hs-body" }, tag("Signed", "green", { "data-testid": "visit-signed" }), " ", visitSync(ctx)),
    refusedSection(ctx.refused, refusedOpts(ctx, toAddendum)),
    h("p", { class: "hs-body" }, `Signed ${fmtDayTime(visit.completed_at)}. This record is read-only.`),
    outcomeEl,
    ...answersSummary(ctx, { changeLinks: false }),
    ...recordSummary(ctx, { changeLinks: false }),
    visit.summary ? [h("h2", { class: "hs-h2" }, "What happened"), h("p", { class: "hs-body" }, visit.summary)] : null,
    h("h2", { class: "hs-h2" }, "Observations"),
    ctx.observations.length
      ? h("ul", { class: "hs-list hs-list--bordered", "data-testid": "obs-list" }, ctx.observations.map((o) => h("li", { "data-testid": "observation" },
          tag(kindLabel(o.kind), "grey"), " ",
          h("span", { class: "hs-hint" }, o.about_person_id ? personName(ctx.byId.get(o.about_person_id)) : "Whole family"),
          h("p", { class: "hs-body" }, o.text), refusedNote(ctx.refused.find((r) => r.id === o.id)))))
      : emptyState("No observations recorded."),
    h("h2", { class: "hs-h2" }, "Addenda"),
    ctx.addenda.length
      ? h("ul", { class: "hs-list hs-list--bordered", "data-testid": "addenda" }, ctx.addenda.map((a) => h("li", { "data-testid": "addendum" },
          h("p", { class: "hs-hint" }, fmtDayTime(a.recorded_at)), h("p", { class: "hs-body" }, a.text),
          refusedNote(ctx.refused.find((r) => r.id === a.id)))))
      : emptyState("No addenda."),
    addText,
    button("Add addendum", async () => {
      const ta = addText.querySelector("textarea");
      if (!ta.value.trim()) {
        showErrors(errorSlot, [{ text: "Enter the addendum", href: "#addendum-text", target: ta }]);
        return;
      }
      const tooLong = checkLimit(ta);
      if (tooLong) { showErrors(errorSlot, [{ text: tooLong, href: "#addendum-text", target: ta }]); return; }
      await model.create("addendum", { family_id: visit.family_id, visit_id: visit.id, text: ta.value, recorded_by: user ? user.user_id : null,
                                       recorded_at: nowIso(), device_id: user ? user.device_id : null }, { familyId: visit.family_id });
      for (const [id, entity] of moving) await refused.settle(entity, id);
      Promise.resolve(sync.now()).catch(() => {}); // offline, the outbox keeps it
      offFlush();
      if (model.clearDraft) await model.clearDraft(draftId).catch(() => {});
      rerender();
    }, { secondary: true, "data-testid": "addendum-add" }),
  );
  const offFlush = registerFlush(async () => { const ta = addText.querySelector("textarea"); if (ta.flush) await ta.flush(); });
  return () => offFlush();
}
