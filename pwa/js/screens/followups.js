// My follow-ups by due date, overdue first and highlighted; complete one or add a note.
import { h, fill, screenTitle, tag, card, fmtDay, todayKey, daysBetween, emptyState, showErrors, button, nextId,
         characterCount, checkLimit, statusLine, aboutWhom, plural } from "./common.js";
import { list, me, model, isOpen, dueKey, personsById } from "./data.js";
import { rerender } from "../router.js";
import { showPushSettings } from "./push-settings.js";
import * as sync from "../sync.js";

const setFields = (entity, id, patch) => (model.setFields || model.update).call(model, entity, id, patch);

export async function render(root) {
  const user = await me();
  const [followUps, families, people] = await Promise.all([list("follow_up"), list("family"), personsById()]);
  const famName = new Map(families.map((f) => [f.id, f.family_name]));
  const today = todayKey();
  const mine = followUps.filter((f) => !user || f.assignee_id === user.user_id)
    .sort((a, b) => (a.due_at || "").localeCompare(b.due_at || ""));
  const open = mine.filter(isOpen);
  const overdue = open.filter((f) => dueKey(f) < today);
  const upcoming = open.filter((f) => dueKey(f) >= today);
  const done = mine.filter((f) => !isOpen(f)).slice(-10).reverse();

  const notify = h("div", { "data-testid": "push-settings" });
  fill(root,
    ...screenTitle("My follow-ups"),
    h("p", { class: "hs-body", "data-testid": "followup-counts" },
      `${open.length} open`, overdue.length ? ", " : "", overdue.length ? tag(`${overdue.length} overdue`, "red") : null),
    overdue.length ? h("h2", { class: "hs-h2" }, "Overdue") : null,
    overdue.length ? h("ul", { class: "hs-card-list" }, overdue.map((f) => item(f, famName, today, people))) : null,
    h("h2", { class: "hs-h2" }, "Due"),
    upcoming.length ? h("ul", { class: "hs-card-list" }, upcoming.map((f) => item(f, famName, today, people)))
      : emptyState("Nothing else due."),
    done.length ? h("h2", { class: "hs-h2" }, "Recently completed") : null,
    done.length ? h("ul", { class: "hs-list hs-list--bordered" }, done.map((f) => h("li", { "data-testid": "followup-done" },
      h("p", { class: "hs-body" }, f.text || ""),
      h("p", { class: "hs-hint" }, `${famName.get(f.family_id) || "Family"} · ${f.status === "cancelled" ? "Cancelled" : "Done"}${f.completed_at ? " " + fmtDay(f.completed_at) : ""}`),
      f.note ? h("p", { class: "hs-body" }, `Note: ${f.note}`) : null))) : null,
    notify,
  );
  showPushSettings(notify, "follow-up reminders");
}

/** "Mark as done": needs a note saying what was done; sent at once when there is signal. */
export function completeButton(f, note, errorSlot) {
  return button("Mark as done", async () => {
    if (!note.value.trim()) {
      showErrors(errorSlot, [{ text: "Enter a note saying what was done", href: `#${note.id}`, target: note }]);
      return;
    }
    const tooLong = checkLimit(note);
    if (tooLong) { showErrors(errorSlot, [{ text: tooLong, href: `#${note.id}`, target: note }]); return; }
    await setFields("follow_up", f.id, { status: "done", note: note.value.trim(), completed_at: new Date().toISOString() });
    Promise.resolve(sync.now()).catch(() => {}); // offline, the outbox keeps it
    rerender();
  }, { "data-testid": "followup-complete" });
}

function item(f, famName, today, people) {
  const day = dueKey(f);
  const late = day < today;
  const id = nextId("fu");
  const errorSlot = h("div", {});
  const note = h("textarea", { class: "hs-textarea", id: `${id}-note`, rows: 3, "data-testid": "followup-note" });
  note.value = f.note || "";
  const saveNote = async () => {
    const tooLong = checkLimit(note);
    if (tooLong) { showErrors(errorSlot, [{ text: tooLong, href: `#${note.id}`, target: note }]); return; }
    await setFields("follow_up", f.id, { note: note.value });
    status.textContent = "Note saved on this phone";
  };
  const status = statusLine();
  return h("li", {},
    card({ class: `hs-card${late ? " hs-card--overdue" : ""}`, "data-testid": "followup", "data-followup-id": f.id, "data-overdue": late ? "true" : "false" },
      h("p", { class: "hs-body hs-card__heading" }, h("a", { href: `#/family/${f.family_id}` }, famName.get(f.family_id) || "Family")),
      aboutWhom(f, people),
      h("p", { class: "hs-body" }, f.text || ""),
      h("p", { class: "hs-body" },
        late ? tag(`Overdue by ${plural(daysBetween(day, today), "day")}`, "red")
          : day === today ? tag("Due today", "yellow") : tag(`Due ${fmtDay(f.due_at)}`, "grey"),
        late ? h("span", { class: "hs-hint" }, ` (was due ${fmtDay(f.due_at)})`) : null),
      errorSlot,
      h("details", { class: "hs-details" },
        h("summary", { class: "hs-details__summary" }, h("span", { class: "hs-details__summary-text" }, "Complete or add a note")),
        h("div", { class: "hs-details__text" },
          h("div", { class: "hs-form-group" },
            h("label", { class: "hs-label", for: `${id}-note` }, "Note"),
            h("div", { class: "hs-hint" }, "What you did or agreed. Needed to complete it."),
            characterCount(note, "follow_up", "note")),
          h("div", { class: "hs-button-group" },
            completeButton(f, note, errorSlot),
            button("Save note", saveNote, { secondary: true, "data-testid": "followup-save-note" })),
          status))));
}
