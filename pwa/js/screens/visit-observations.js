// The visit's observations: typed entries (a fact, a judgement, the child's own words, ...),
// never edited (amending adds an entry that replaces it), each within the model's limit.
import { rerender } from "../router.js";
import { h, fill, screenTitle, tag, fmtDayTime, personName, backLink, button, showErrors, radios, emptyState,
         characterCount, checkLimit, fieldError, trackSave } from "./common.js";
import { model } from "./data.js";
import { recordingWarnings, warningsView } from "./visit-outcome.js";
import { refusedSection, refusedNote } from "./refused-view.js";
import { OBS_KINDS, kindLabel, refusedOpts } from "./visit-entries.js";

const nowIso = () => new Date().toISOString();

export async function renderObservations(root, ctx) {
  const { visit, b, user } = ctx;
  const draftId = `observation-draft:${visit.id}`;
  const draft = (model.loadDraft ? await model.loadDraft(draftId).catch(() => null) : null) || {};
  const state = { kind: draft.kind || null, about: draft.about || "", text: draft.text || "" };
  const saveDraft = () => model.saveDraft && trackSave(model.saveDraft(draftId, { ...state }).catch(() => {}));
  const errorSlot = h("div", {});
  const warnSlot = h("div", { "aria-live": "polite" });

  const superseded = new Set(ctx.observations.map((o) => o.supersedes_id).filter(Boolean));
  const current = ctx.observations.filter((o) => !superseded.has(o.id))
    .sort((a, c) => (a.recorded_at || "").localeCompare(c.recorded_at || ""));

  const kindGroup = radios({ legend: "What kind of entry is this?", name: "obs-kind", options: OBS_KINDS, value: state.kind,
                             testid: "obs-kind", onChange: (v) => { state.kind = v; saveDraft(); } });
  kindGroup.id = "obs-kind";
  const about = h("select", { class: "hs-select", id: "obs-about", "data-testid": "obs-about",
                              on: { change: (ev) => { state.about = ev.target.value; saveDraft(); } } },
    h("option", { value: "" }, "The whole family"),
    b.persons.map((p) => h("option", { value: p.id, selected: state.about === p.id ? true : null }, personName(p))));
  const text = h("textarea", { class: "hs-textarea", id: "obs-text", rows: 6, "data-testid": "obs-text",
                               on: { input: (ev) => { state.text = ev.target.value; saveDraft(); } } });
  text.value = state.text;
  const counted = characterCount(text, "observation", "text");
  const refusedById = new Map(ctx.refused.filter((r) => r.entity === "observation").map((r) => [r.id, r]));

  const list = h("ol", { class: "hs-list hs-list--bordered", "data-testid": "obs-list" },
    current.map((o) => h("li", { "data-testid": "observation", "data-kind": o.kind },
      tag(kindLabel(o.kind), o.kind === "child-words" ? "blue" : "grey"), " ",
      h("span", { class: "hs-hint" }, `${o.about_person_id ? personName(ctx.byId.get(o.about_person_id)) : "Whole family"} · ${fmtDayTime(o.recorded_at)}`),
      h("p", { class: `hs-body${o.kind === "child-words" ? " hs-quote" : ""}` }, o.text),
      o.supersedes_id ? h("p", { class: "hs-hint" }, "Replaces an earlier entry (kept in the record).") : null,
      refusedNote(refusedById.get(o.id)),
      refusedById.has(o.id) ? null : button("Amend", () => {
        state.supersedes = o.id; state.kind = o.kind; state.about = o.about_person_id || ""; state.text = o.text;
        text.value = o.text; about.value = state.about; text.refreshCount();
        const r = kindGroup.querySelector(`input[value="${o.kind}"]`); if (r) r.checked = true;
        text.focus();
      }, { secondary: true, class: "hs-button hs-button--secondary hs-button--small" }))));

  const add = async () => {
    const errors = [];
    if (!state.kind) errors.push({ text: "Choose what kind of entry this is", href: "#obs-kind", target: kindGroup.querySelector("input") });
    if (!state.text.trim()) errors.push({ text: "Enter the observation", href: "#obs-text", target: text });
    const tooLong = checkLimit(text);
    if (tooLong) errors.push({ text: tooLong, href: "#obs-text", target: text });
    if (errors.length) { showErrors(errorSlot, errors); return; }
    errorSlot.replaceChildren();
    try {
      await model.create("observation", {
        family_id: visit.family_id, visit_id: visit.id, about_person_id: state.about || null, kind: state.kind,
        text: state.text, supersedes_id: state.supersedes || null, recorded_by: user ? user.user_id : null,
        recorded_at: nowIso(), device_id: user ? user.device_id : null,
      }, { familyId: visit.family_id });
    } catch (err) {
      if (!err || err.name !== "InvalidValue") throw err;
      const target = err.field === "kind" ? kindGroup.querySelector("input") : text;
      if (err.field !== "kind") fieldError(text, err.message);
      showErrors(errorSlot, [{ text: err.message, href: err.field === "kind" ? "#obs-kind" : "#obs-text", target }]);
      return;
    }
    if (model.clearDraft) await model.clearDraft(draftId).catch(() => {});
    const warnings = await recordingWarnings(ctx.content, state.text, recordingContext(ctx, state.about || null, state.kind));
    if (warnings.length) sessionStorage.setItem("hs-last-obs-warnings", JSON.stringify(warnings));
    rerender();
  };

  const last = JSON.parse(sessionStorage.getItem("hs-last-obs-warnings") || "[]");
  sessionStorage.removeItem("hs-last-obs-warnings");
  if (last.length) warnSlot.append(warningsView(last.map((w) => ({ where: "Your last entry", warning: w }))));

  fill(root, 
    backLink("Visit tasks", `#/visit/${visit.id}`),
    errorSlot,
    ...screenTitle("Observations", { caption: `${b.family.family_name} family` }),
    refusedSection([...refusedById.values()], refusedOpts(ctx)),
    h("p", { class: "hs-body" }, "Entries are never edited: amending one adds a new entry that replaces it, and both stay in the record."),
    warnSlot,
    current.length ? list : emptyState("No observations yet."),
    h("h2", { class: "hs-h2" }, state.supersedes ? "Amend the entry" : "Add an observation"),
    kindGroup,
    h("div", { class: "hs-form-group" }, h("label", { class: "hs-label", for: "obs-about" }, "About"), about),
    h("div", { class: "hs-form-group" },
      h("label", { class: "hs-label", for: "obs-text" }, "Observation"),
      h("div", { class: "hs-hint" }, "For the child's own words, write exactly what they said."),
      counted),
    h("div", { class: "hs-button-group" },
      button("Add observation", add, { "data-testid": "obs-add" }),
      h("a", { href: `#/visit/${visit.id}`, class: "hs-link-button", "data-testid": "obs-done" }, "Return to visit tasks")),
  );
}

// The child-related context a recording check needs (content RecordingContext).
export function recordingContext(ctx, aboutId, kind) {
  const children = ctx.subjects.filter((s) => s.kind === "child" && s.age_band !== "unborn");
  const about = aboutId ? children.filter((c) => c.id === aboutId) : children;
  const ans = (cid, item) => { const r = ctx.idx.get(`child-seen-alone|${cid}|${item}`); return r ? r.answer : null; };
  const seen = about.length ? about.every((c) => ctx.present.has(c.id) && ans(c.id, "child-seen") !== "no") : null;
  const alone = about.length ? about.every((c) => ans(c.id, "spoken-to-alone") === "yes") : null;
  return { child_seen: seen, child_spoken_to_alone: alone, kind: kind || null };
}
