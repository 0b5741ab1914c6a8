// Supervisor screens: the team overview (open flags by severity and age, overdue
// follow-ups by practitioner, each practitioner's last sync), a flag with the record
// behind it (acknowledge, decide with a rationale, follow-ups from the decision), and a
// single follow-up (the target of a reminder notification). What the server holds for a
// decision (held uploads, kept entries, refused changes) is on its own screen, review.js.
//
// Routes (add to screens/index.js):
//   #/supervisor              -> render(root, {})
//   #/flags/:flagId           -> render(root, {flagId})
//   #/follow-ups/:followUpId  -> render(root, {followUpId})
//
// Flags and follow-ups come from the encrypted vault (pulled like every other record), so
// this works offline. Last-sync times are not records: they come from
// GET /api/v1/supervisor/overview when online and are kept in an encrypted draft, shown
// with the time they were fetched. Decisions are written through the model (set ops), so
// they reach the server, and the practitioner, on the next sync.
import {
  h, screenTitle, tag, card, fmtDay, fmtDayTime, todayKey, dayKey, daysBetween, emptyState, showErrors, button,
  nextId, summaryList, warningCallout, personName, visitTypeLabel, backLink,
  severityLabel, severityColour, severityRank, characterCount, checkLimit, statusLine, follow, plural,
} from "./common.js";
import * as schema from "../generated/model.js";
import { list, get, me, model, personsById } from "./data.js";
import { rerender } from "../router.js";
import * as api from "../api.js";
import * as sync from "../sync.js";
import * as ui from "../ui.js";
import { showPushSettings } from "./push-settings.js";
import { completeButton } from "./followups.js";
import { answersInWords, decisionList, raisedAt } from "./flag-view.js";
import { namer } from "./staff.js";

const CACHE_ID = "supervisor-overview";
const TZ = "Europe/London";

// Element.append would turn a null (screenTitle without a caption) into the text "null".
const put = (root, ...nodes) => root.append(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));

const setFields = (entity, id, patch) => (model.setFields || model.update).call(model, entity, id, patch);
const isSupervisor = (user) => !!user && (user.role === "supervisor" || user.role === "admin");
const isOpenFlag = (f) => f.status !== "closed";
const sevRank = (f) => severityRank(f.severity);

// -- the overview cache (encrypted draft; never synced) --------------------------------------
async function loadOverview() {
  const cached = await model.loadDraft(CACHE_ID).catch(() => null);
  try {
    const fresh = await api.get("/api/v1/supervisor/overview");
    const keep = {
      fetched_at: new Date().toISOString(),
      practitioners: fresh.practitioners || [],
      flag_created: Object.fromEntries((fresh.flags || []).map((f) => [f.id, f.created_at])),
    };
    await model.saveDraft(CACHE_ID, keep).catch(() => null);
    return { ...keep, live: true };
  } catch (_) {
    return cached ? { ...cached, live: false } : { fetched_at: null, practitioners: [], flag_created: {}, live: false };
  }
}

function flagAge(f, overview, visits) {
  const created = (overview.flag_created || {})[f.id] || f.created_at
    || (visits.get(f.visit_id) || {}).completed_at || null;
  if (!created) return { created: null, text: "" };
  const hours = Math.max(0, (Date.now() - Date.parse(created)) / 3600000);
  const text = hours < 1 ? "under an hour" : hours < 48 ? `${Math.floor(hours)} h` : plural(Math.floor(hours / 24), "day");
  return { created, text };
}

// End of a local day (Europe/London) as an instant: the server's due-date convention.
function endOfLocalDay(key) {
  const guess = new Date(`${key}T23:59:00Z`);
  const local = new Date(guess.toLocaleString("en-US", { timeZone: TZ }));
  const utc = new Date(guess.toLocaleString("en-US", { timeZone: "UTC" }));
  return new Date(guess.getTime() - (local - utc)).toISOString();
}

// -- entry ------------------------------------------------------------------------------------
export async function render(root, params = {}) {
  if (params.flagId) return renderFlag(root, params.flagId);
  if (params.followUpId) return renderFollowUp(root, params.followUpId);
  return renderOverview(root);
}

async function renderOverview(root) {
  const user = await me();
  if (!isSupervisor(user)) {
    put(root, ...screenTitle("Team overview"), emptyState("This screen is for supervisors."));
    return;
  }
  const [flags, followUps, families, visits, overview, people] = await Promise.all([
    list("flag"), list("follow_up"), list("family"), list("visit"), loadOverview(), personsById(),
  ]);
  const famName = new Map(families.map((f) => [f.id, f.family_name]));
  const visitById = new Map(visits.map((v) => [v.id, v]));
  const names = new Map((overview.practitioners || []).map((p) => [p.user_id, p.display_name]));
  const open = flags.filter(isOpenFlag).map((f) => ({ f, age: flagAge(f, overview, visitById) }))
    .sort((a, b) => sevRank(a.f) - sevRank(b.f) || (a.age.created || "").localeCompare(b.age.created || ""));
  const today = todayKey();
  const overdue = followUps.filter((f) => f.status === "open" && f.due_at && dayKey(f.due_at) < today);
  const byPerson = new Map();
  for (const f of overdue) {
    const key = f.assignee_id || "";
    if (!byPerson.has(key)) byPerson.set(key, []);
    byPerson.get(key).push(f);
  }
  const status = sync.status ? sync.status() : {};
  const counts = schema.values("flag", "severity").map((s) => [s, open.filter((x) => x.f.severity === s).length]);

  const notify = h("div", { "data-testid": "push-settings" });
  showPushSettings(notify, "urgent flags");

  put(root, 
    ...screenTitle("Team overview"),
    h("p", { class: "hs-hint", "data-testid": "overview-freshness" },
      status.lastSuccessAt ? `Records on this phone as of ${fmtDayTime(status.lastSuccessAt)}.` : "Not synced yet on this phone.",
      overview.fetched_at ? ` Sync times as of ${fmtDayTime(overview.fetched_at)}${overview.live ? "" : " (offline copy)"}.` : ""),
    h("ul", { class: "hs-list" },
      h("li", {}, h("a", { href: "#/review", "data-testid": "review-link" },
        "Waiting for a decision: uploads held on the server, entries that need a look, refused changes")),
      h("li", {}, h("a", { href: "#/team/families", "data-testid": "allocate-link" }, "Allocate families")),
      h("li", {}, h("a", { href: "#/team/follow-ups", "data-testid": "team-followups-link" }, "Team follow-ups"))),
    h("h2", { class: "hs-h2" }, "Open flags"),
    h("p", { class: "hs-body", "data-testid": "flag-counts" },
      counts.map(([s, n]) => [tag(`${n} ${severityLabel(s).toLowerCase()}`, n ? severityColour(s) : "grey"), " "])),
    open.length
      ? h("ul", { class: "hs-card-list", "data-testid": "flag-list" }, open.map(({ f, age }) => h("li", {},
        card({ class: `hs-card hs-card--${f.severity}`, "data-testid": "flag", "data-flag-id": f.id, "data-severity": f.severity },
          h("p", { class: "hs-body hs-card__heading" },
            tag(severityLabel(f.severity), severityColour(f.severity)), " ",
            h("a", { href: `#/flags/${f.id}` }, famName.get(f.family_id) || "Family")),
          h("p", { class: "hs-body" }, f.reason || ""),
          h("p", { class: "hs-hint" },
            f.status === "acknowledged" ? "Acknowledged" : "Not yet acknowledged",
            age.text ? ` · waiting ${age.text}` : "")))))
      : emptyState("No open flags."),
    h("h2", { class: "hs-h2" }, "Overdue follow-ups by practitioner"),
    byPerson.size
      ? h("dl", { class: "hs-summary", "data-testid": "overdue-by-practitioner" },
        [...byPerson.entries()].sort((a, b) => b[1].length - a[1].length).map(([uid, items]) =>
          h("div", { class: "hs-summary__row", "data-user-id": uid },
            h("dt", { class: "hs-summary__key" }, names.get(uid) || (uid ? "Practitioner" : "Not assigned")),
            h("dd", { class: "hs-summary__value" },
              tag(`${items.length} overdue`, "red"),
              h("ul", { class: "hs-list" }, items.sort((a, b) => a.due_at.localeCompare(b.due_at)).map((f) =>
                h("li", {}, h("a", { href: `#/follow-ups/${f.id}` }, famName.get(f.family_id) || "Family"),
                  ` · ${(people.get(f.subject_id) && "about " + personName(people.get(f.subject_id))) || "about the family"} · due ${fmtDay(f.due_at)} (${plural(daysBetween(dayKey(f.due_at), today), "day")} overdue)`)))))))
      : emptyState("No overdue follow-ups."),
    h("h2", { class: "hs-h2" }, "Last sync"),
    (overview.practitioners || []).length
      ? summaryList(overview.practitioners.map((p) => [p.display_name,
        p.last_sync_at ? fmtDayTime(p.last_sync_at) : "Never synced"]), { "data-testid": "last-sync" })
      : emptyState(overview.live ? "No practitioners in the team." : "Connect to see when practitioners last synced."),
    notify,
  );
  return follow(["flag", "follow_up", "family", "visit"]);
}

// -- one flag ---------------------------------------------------------------------------------
async function renderFlag(root, flagId) {
  const [user, flag] = await Promise.all([me(), get("flag", flagId)]);
  if (!flag || flag.deleted || flag._deleted) {
    put(root, backLink("Back", "#/supervisor"), ...screenTitle("Flag"),
      emptyState("This flag is not on this phone yet. It will appear here after the next sync."));
    return follow(["flag"]);
  }
  const [family, visit, subject, followUps] = await Promise.all([
    get("family", flag.family_id),
    flag.visit_id ? get("visit", flag.visit_id) : null,
    flag.subject_id ? get("person", flag.subject_id) : null,
    list("follow_up", { family_id: flag.family_id }),
  ]);
  const linked = followUps.filter((f) => (flag.visit_id && f.visit_id === flag.visit_id) || f.id === flag.subject_id);
  const [label, colour] = [severityLabel(flag.severity), severityColour(flag.severity)];
  const answers = Array.isArray(flag.answers) ? flag.answers : [];
  const [name, content] = await Promise.all([namer(), model.content().catch(() => null)]);
  const raised = raisedAt(flag, new Map(visit ? [[visit.id, visit]] : []));

  put(root, 
    backLink(isSupervisor(user) ? "Team overview" : "Back", isSupervisor(user) ? "#/supervisor" : `#/family/${flag.family_id}`),
    ...screenTitle(`${label} flag`, { caption: family ? family.family_name : "Family" }),
    h("div", { "data-testid": "flag-detail", "data-flag-id": flag.id, "data-status": flag.status },
      flag.severity === "urgent" && flag.status !== "closed" ? warningCallout("Needs a decision today", h("p", {}, flag.reason || "")) : h("p", { class: "hs-body" }, flag.reason || ""),
      summaryList([
        ["Severity", tag(label, colour)],
        ["Status", flag.status === "closed" ? "Closed with a decision" : flag.status === "acknowledged" ? "Acknowledged" : "Open"],
        ["Family", family ? h("a", { href: `#/family/${family.id}` }, family.family_name) : "Not on this phone"],
        subject ? ["About", personName(subject)] : null,
        visit ? ["Visit", h("a", { href: `#/visit/${visit.id}` }, `${visitTypeLabel(visit.type)}${visit.completed_at ? ", " + fmtDay(visit.completed_at) : ""}`)] : null,
        answers.length ? ["Answers that raised it", h("ul", { class: "hs-list" }, answersInWords(answers, content).map((t) => h("li", {}, t)))] : null,
        raised ? ["Raised", fmtDay(raised)] : null,
        flag.acknowledged_by ? ["Acknowledged", `${name(flag.acknowledged_by)}${flag.acknowledged_at ? ", " + fmtDayTime(flag.acknowledged_at) : ""}`] : null,
      ]),
      flag.decision ? h("div", { "data-testid": "flag-decision" },
        h("h2", { class: "hs-h2" }, "Management decision"),
        decisionList(flag, name)) : null,
      linked.length ? h("div", {},
        h("h2", { class: "hs-h2" }, "Follow-ups"),
        h("ul", { class: "hs-list" }, linked.map((f) => h("li", {},
          h("a", { href: `#/follow-ups/${f.id}` }, f.text || "Follow-up"), ` · ${f.status === "open" ? "due " + fmtDay(f.due_at) : f.status === "done" ? "done" : "cancelled"} · for ${name(f.assignee_id, { you: "you" })}`)))) : null,
      isSupervisor(user) && flag.status !== "closed" ? await decisionForm(flag, visit, user) : null),
  );
  // Only when this flag itself changes (say the decision arrives from another phone), so a
  // routine sync does not redraw the form under someone typing.
  const off = model.subscribe ? model.subscribe(async ({ entity } = {}) => {
    if (entity && entity !== "*" && entity !== "flag") return;
    const now = await get("flag", flagId).catch(() => null);
    if (now && (now.version !== flag.version || now.status !== flag.status)) rerender();
  }) : null;
  return () => { if (typeof off === "function") off(); };
}

async function decisionForm(flag, visit, user) {
  const id = nextId("dec");
  const errors = h("div", {});
  const decision = h("textarea", { class: "hs-textarea", id: `${id}-decision`, name: "decision", rows: 3, "data-testid": "decision" });
  const rationale = h("textarea", { class: "hs-textarea", id: `${id}-rationale`, name: "rationale", rows: 4, "data-testid": "rationale" });
  const close = h("input", { class: "hs-checkboxes__input", type: "checkbox", id: `${id}-close`, name: "close", "data-testid": "close-flag" });
  const fuText = h("textarea", { class: "hs-textarea", id: `${id}-fu`, name: "follow_up_text", rows: 2, "data-testid": "decision-follow-up" });
  const fuDue = h("input", { class: "hs-input hs-input--width-10", type: "date", id: `${id}-due`, name: "follow_up_due", value: todayKey(), "data-testid": "decision-follow-up-due" });
  const status = statusLine();
  // Text fields show the model's limit as a character count.
  const group = (label, hint, input, limit = null) => h("div", { class: "hs-form-group" },
    h("label", { class: "hs-label", for: input.id }, label), hint ? h("div", { class: "hs-hint" }, hint) : null,
    limit ? characterCount(input, ...limit) : input);

  const form = h("form", { class: "hs-form", novalidate: true, "data-testid": "decision-form" },
    h("h2", { class: "hs-h2" }, "Record your decision"),
    errors,
    group("Decision", "What will happen, who does it, and by when.", decision, ["flag", "decision"]),
    group("Rationale", "Why: what you weighed up, including the child's view and history.", rationale, ["flag", "rationale"]),
    h("div", { class: "hs-form-group" }, h("div", { class: "hs-checkboxes__item" }, close,
      h("label", { class: "hs-label hs-checkboxes__label", for: close.id }, "Close the flag with this decision"))),
    h("details", { class: "hs-details" },
      h("summary", { class: "hs-details__summary" }, h("span", { class: "hs-details__summary-text" }, "Add a follow-up from this decision")),
      h("div", { class: "hs-details__text" },
        group("Follow-up", "Given to the practitioner who made the visit.", fuText, ["follow_up", "text"]),
        group("Due on", null, fuDue))),
    h("div", { class: "hs-button-group" },
      flag.status === "open" ? button("Acknowledge", async () => {
        await setFields("flag", flag.id, { status: "acknowledged", acknowledged_by: user.user_id, acknowledged_at: new Date().toISOString() });
        sync.now && sync.now();
        rerender();
      }, { secondary: true, "data-testid": "acknowledge" }) : null,
      h("button", { type: "submit", class: "hs-button", "data-testid": "save-decision" }, "Save decision")),
    status);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problems = [];
    if (!decision.value.trim()) problems.push({ text: "Enter the decision", href: `#${decision.id}`, target: decision });
    if (!rationale.value.trim()) problems.push({ text: "Enter the rationale for the decision", href: `#${rationale.id}`, target: rationale });
    for (const [el, what] of [[decision, "The decision"], [rationale, "The rationale"], [fuText, "The follow-up"]]) {
      const tooLong = checkLimit(el);
      if (tooLong) problems.push({ text: `${what}: ${tooLong}`, href: `#${el.id}`, target: el });
    }
    if (fuText.value.trim() && !/^\d{4}-\d{2}-\d{2}$/.test(fuDue.value)) problems.push({ text: "Enter when the follow-up is due", href: `#${fuDue.id}`, target: fuDue });
    if (problems.length) { showErrors(errors, problems); return; }
    const at = new Date().toISOString();
    if (fuText.value.trim()) {
      await model.create("follow_up", {
        family_id: flag.family_id, visit_id: flag.visit_id || null, text: fuText.value.trim(),
        assignee_id: (visit && visit.practitioner_id) || user.user_id, due_at: endOfLocalDay(fuDue.value), status: "open",
      }, { familyId: flag.family_id });
    }
    // The decision fields go before the status, so a flag is never closed without them.
    const patch = { decision: decision.value.trim(), rationale: rationale.value.trim(), decided_by: user.user_id, decided_at: at };
    if (!flag.acknowledged_by) Object.assign(patch, { acknowledged_by: user.user_id, acknowledged_at: at });
    patch.status = close.checked ? "closed" : "acknowledged";
    await setFields("flag", flag.id, patch);
    await model.clearDraft(`decision-${flag.id}`).catch(() => null);
    status.textContent = "Decision saved on this phone; it is sent at the next sync.";
    if (sync.now) sync.now();
    rerender();
  });
  if (ui.bindDraft) ui.bindDraft(form, `decision-${flag.id}`).catch(() => null);
  return form;
}

// -- one follow-up (a reminder's target) -------------------------------------------------------
async function renderFollowUp(root, followUpId) {
  const [user, f] = await Promise.all([me(), get("follow_up", followUpId)]);
  if (!f || f.deleted || f._deleted) {
    put(root, backLink("My follow-ups", "#/follow-ups"), ...screenTitle("Follow-up"),
      emptyState("This follow-up is not on this phone yet. It will appear here after the next sync."));
    return follow(["follow_up"]);
  }
  const [family, subject] = await Promise.all([get("family", f.family_id), f.subject_id ? get("person", f.subject_id) : null]);
  const today = todayKey();
  const day = f.due_at ? dayKey(f.due_at) : today;
  const late = f.status === "open" && day < today;
  const errors = h("div", {});
  const id = nextId("fu");
  const note = h("textarea", { class: "hs-textarea", id: `${id}-note`, rows: 3, "data-testid": "followup-note" });
  note.value = f.note || "";
  const mine = user && (f.assignee_id === user.user_id || isSupervisor(user));
  // Reassigning is a supervisor's: to a practitioner of the team (as last seen online).
  const team = isSupervisor(user) && f.status === "open" ? (await loadOverview()).practitioners.filter((p) => p.role === "practitioner") : [];
  const assignee = team.find((p) => p.user_id === f.assignee_id);
  const pick = h("select", { class: "hs-select", id: `${id}-assignee`, "data-testid": "reassign-to" },
    team.map((p) => h("option", { value: p.user_id, selected: p.user_id === f.assignee_id ? true : null }, p.display_name)));
  const reassign = team.length ? h("div", { class: "hs-form-group" },
    h("h2", { class: "hs-h2" }, "Reassign"),
    h("label", { class: "hs-label", for: pick.id }, "Practitioner"), pick,
    button("Reassign follow-up", async () => {
      if (pick.value === f.assignee_id) return;
      await setFields("follow_up", f.id, { assignee_id: pick.value });
      if (sync.now) sync.now();
      rerender();
    }, { secondary: true, "data-testid": "reassign" })) : null;
  put(root, 
    backLink("My follow-ups", "#/follow-ups"),
    ...screenTitle("Follow-up", { caption: family ? family.family_name : "Family" }),
    h("div", { "data-testid": "followup-detail", "data-followup-id": f.id, "data-status": f.status },
      h("p", { class: "hs-body" }, f.text || ""),
      summaryList([
        ["Family", family ? h("a", { href: `#/family/${family.id}` }, family.family_name) : "Not on this phone"],
        ["About", subject ? personName(subject) : "The whole family"],
        ["Due", late ? tag(`Overdue by ${plural(daysBetween(day, today), "day")}`, "red") : day === today ? tag("Due today", "yellow") : fmtDay(f.due_at)],
        ["Status", f.status === "open" ? "Open" : f.status === "done" ? "Done" : "Cancelled"],
        assignee ? ["Assigned to", assignee.display_name] : null,
        f.note ? ["Note", f.note] : null,
      ]),
      reassign,
      f.status === "open" && mine ? h("div", {},
        errors,
        h("div", { class: "hs-form-group" }, h("label", { class: "hs-label", for: note.id }, "Note"),
          h("div", { class: "hs-hint" }, "What you did or agreed. Needed to complete it."), characterCount(note, "follow_up", "note")),
        completeButton(f, note, errors)) : null));
}
