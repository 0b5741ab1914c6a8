// A supervisor's team screens: who each family is allocated to (allocate, move a family to
// another practitioner, end an allocation), and the team's open follow-ups by practitioner.
//
// Routes: #/team/families -> render(root, {view: "families"}); #/team/follow-ups -> the list.
//
// Allocation is online only and goes through the REST API (the server's allocate/deallocate,
// audited as such); the phones then hear of it at their next sync: the practitioner who lost
// the family has it taken off their phone, the one who gained it has it pulled. Follow-ups
// come from the encrypted vault, so that list works offline.
import {
  h, fill, screenTitle, tag, card, fmtDay, todayKey, daysBetween, emptyState, showErrors, button, nextId,
  backLink, insetText, statusLine, plural, aboutWhom, follow,
} from "./common.js";
import { list, me, personsById, dueKey, isOpen } from "./data.js";
import { rerender } from "../router.js";
import * as api from "../api.js";
import * as sync from "../sync.js";
import { staff } from "./staff.js";

const isSupervisor = (u) => !!u && (u.role === "supervisor" || u.role === "admin");

export async function render(root, params = {}) {
  const user = await me();
  const followUps = (location.hash || "").startsWith("#/team/follow-ups");
  if (!isSupervisor(user)) {
    fill(root, ...screenTitle(followUps ? "Team follow-ups" : "Allocate families"), emptyState("This screen is for supervisors."));
    return;
  }
  return followUps ? renderFollowUps(root) : renderFamilies(root, user);
}

const practitionersOf = (names) => [...names.entries()].filter(([, s]) => s.role === "practitioner")
  .map(([id, s]) => ({ id, name: s.name })).sort((a, b) => a.name.localeCompare(b.name));

// -- allocation ---------------------------------------------------------------------------
async function renderFamilies(root) {
  const [families, allocations, names] = await Promise.all([list("family"), list("allocation"), staff()]);
  const team = practitionersOf(names);
  const nameOf = (id) => (names.get(id) || {}).name || "A practitioner outside the team";
  const online = navigator.onLine;
  fill(root,
    backLink("Team overview", "#/supervisor"),
    ...screenTitle("Allocate families"),
    h("p", { class: "hs-body" }, "Who visits each family. Moving a family takes it off the other practitioner's phone at their next sync."),
    online ? null : insetText(h("p", { class: "hs-body" }, "Connect to allocate or move a family. What is shown is as of the last sync.")),
    families.length ? h("ul", { class: "hs-card-list", "data-testid": "allocation-list" },
      [...families].sort((a, b) => (a.family_name || "").localeCompare(b.family_name || "")).map((f) => h("li", {},
        familyCard(f, allocations.filter((a) => a.family_id === f.id && a.active !== false), team, nameOf, online))))
      : emptyState("No families on this phone yet."),
  );
  return follow(["family", "allocation"]);
}

function familyCard(family, active, team, nameOf, online) {
  const id = nextId("alloc");
  const errors = h("div", {});
  const status = statusLine({ "data-testid": "allocation-status" });
  const current = new Set(active.map((a) => a.practitioner_id));
  const choices = team.filter((p) => !current.has(p.id));
  const pick = h("select", { class: "hs-select", id: `${id}-to`, name: "practitioner", "data-testid": "allocate-to" },
    h("option", { value: "" }, "Choose a practitioner"),
    choices.map((p) => h("option", { value: p.id }, p.name)));
  const run = async (what, fn) => {
    if (!navigator.onLine) { showErrors(errors, [{ text: "You need a connection to change an allocation." }]); return; }
    if (what !== "end" && !pick.value) { showErrors(errors, [{ text: "Choose a practitioner", href: `#${pick.id}`, target: pick }]); return; }
    showErrors(errors, []);
    try {
      await fn();
      status.textContent = "Allocation changed. Phones hear of it at their next sync.";
      await Promise.resolve(sync.now()).catch(() => {});
      rerender();
    } catch (err) {
      showErrors(errors, [{ text: err && err.status === 412 ? "Someone changed this allocation meanwhile: look again and retry." : "The allocation could not be changed. Try again." }]);
    }
  };
  const allocate = (practitionerId) => api.post(`/api/v1/families/${family.id}/allocations`, { practitioner_id: practitionerId });
  const end = (a) => api.post(`/api/v1/families/${family.id}/allocations/${a.practitioner_id}/end`, {},
    { headers: { "If-Match": `"${a.version}"` } });
  return card({ "data-testid": "allocation", "data-family-id": family.id },
    h("h2", { class: "hs-h3 hs-card__heading" }, h("a", { href: `#/family/${family.id}` }, family.family_name || "Family")),
    errors,
    active.length
      ? h("ul", { class: "hs-list", "data-testid": "allocated" }, active.map((a) => h("li", { "data-practitioner-id": a.practitioner_id },
          h("span", { class: "hs-body" }, nameOf(a.practitioner_id)), " ",
          online ? button(`End allocation: ${nameOf(a.practitioner_id)}`, () => run("end", () => end(a)),
            { secondary: true, "data-testid": "end-allocation" }) : null)))
      : h("p", { class: "hs-body" }, tag("Not allocated", "orange")),
    online && choices.length ? h("div", { class: "hs-form-group" },
      h("label", { class: "hs-label", for: pick.id }, "Practitioner"), pick) : null,
    online && choices.length ? h("div", { class: "hs-button-group" },
      active.length ? button("Move the family to them", () => run("move", async () => {
        await allocate(pick.value);
        for (const a of active) await end(a);  // the new allocation first: never a family with nobody
      }), { "data-testid": "move-family" }) : null,
      button(active.length ? "Add them as well" : "Allocate", () => run("add", () => allocate(pick.value)),
        { secondary: active.length > 0, "data-testid": "allocate" })) : null,
    status);
}

// -- the team's follow-ups -------------------------------------------------------------------
async function renderFollowUps(root) {
  const [followUps, families, people, names] = await Promise.all([list("follow_up"), list("family"), personsById(), staff()]);
  const famName = new Map(families.map((f) => [f.id, f.family_name]));
  const today = todayKey();
  const open = followUps.filter(isOpen).sort((a, b) => (a.due_at || "").localeCompare(b.due_at || ""));
  const byPerson = new Map();
  for (const f of open) {
    const key = f.assignee_id || "";
    if (!byPerson.has(key)) byPerson.set(key, []);
    byPerson.get(key).push(f);
  }
  const label = (id) => (id ? (names.get(id) || {}).name || "A colleague" : "Not assigned");
  const groups = [...byPerson.entries()].sort((a, b) => label(a[0]).localeCompare(label(b[0])));
  fill(root,
    backLink("Team overview", "#/supervisor"),
    ...screenTitle("Team follow-ups"),
    h("p", { class: "hs-body", "data-testid": "team-followup-counts" },
      `${open.length} open, `, tag(`${open.filter((f) => dueKey(f) < today).length} overdue`, "red")),
    groups.length ? groups.map(([uid, items]) => h("section", { "data-testid": "team-followups", "data-user-id": uid },
      h("h2", { class: "hs-h2" }, `${label(uid)} (${items.length})`),
      h("ul", { class: "hs-list hs-list--bordered" }, items.map((f) => {
        const late = dueKey(f) < today;
        return h("li", { "data-testid": "team-followup", "data-followup-id": f.id },
          h("a", { href: `#/follow-ups/${f.id}` }, famName.get(f.family_id) || "Family"),
          aboutWhom(f, people),
          h("p", { class: "hs-body" }, f.text || ""),
          late ? tag(`Overdue by ${plural(daysBetween(dueKey(f), today), "day")}`, "red")
            : h("span", { class: "hs-hint" }, `Due ${fmtDay(f.due_at)}`));
      })))) : emptyState("No open follow-ups in the team."),
  );
  return follow(["follow_up", "family"]);
}
