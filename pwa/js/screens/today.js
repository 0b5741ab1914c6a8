// Today: my planned visits (today and the next days), follow-ups due and overdue, sync.
import * as sync from "../sync.js";
import { h, fill, screenTitle, tag, card, fmtDay, fmtTime, relDay, dayKey, todayKey, addDays, daysBetween,
         visitTypeLabel, emptyState, warningCallout, follow, aboutWhom } from "./common.js";
import { list, me, isOpen, dueKey, personsById } from "./data.js";
import { syncSummary } from "./sync.js";

const DAYS_AHEAD = 7;

export async function render(root) {
  const user = await me();
  const [visits, followUps, families, flags, conflicts, people] = await Promise.all([
    list("visit"), list("follow_up"), list("family"), list("flag"), list("conflict"), personsById()]);
  const openConflicts = conflicts.filter((c) => c.status !== "resolved").length;
  const famName = new Map(families.map((f) => [f.id, f.family_name]));
  const today = todayKey();
  const until = addDays(today, DAYS_AHEAD);

  const mine = (v) => !user || !v.practitioner_id || v.practitioner_id === user.user_id;
  const planned = visits
    .filter((v) => (v.status === "planned" || v.status === "in-progress") && mine(v))
    .filter((v) => v.status === "in-progress" || (dayKey(v.planned_for) >= today && dayKey(v.planned_for) <= until)
                   || dayKey(v.planned_for) < today)
    .sort((a, b) => (a.planned_for || "").localeCompare(b.planned_for || ""));

  const myFollowUps = followUps.filter((f) => isOpen(f) && (!user || f.assignee_id === user.user_id));
  const overdue = myFollowUps.filter((f) => dueKey(f) < today).sort((a, b) => (a.due_at || "").localeCompare(b.due_at || ""));
  const dueToday = myFollowUps.filter((f) => dueKey(f) === today);
  const urgentFlags = flags.filter((f) => f.status === "open" && f.severity === "urgent");

  const supervisor = user && (user.role === "supervisor" || user.role === "admin");
  fill(root,
    ...screenTitle("Today", { caption: user ? user.display_name : null }),
    supervisor ? h("p", { class: "hs-body" }, h("a", { href: "#/supervisor", "data-testid": "team-overview" }, "Team overview: flags and overdue follow-ups")) : null,
    urgentFlags.length
      ? warningCallout(`${urgentFlags.length} urgent safeguarding ${urgentFlags.length === 1 ? "flag" : "flags"} open`,
          h("ul", { class: "hs-list" }, urgentFlags.map((f) =>
            h("li", {}, h("a", { href: supervisor ? `#/flags/${f.id}` : `#/family/${f.family_id}` }, famName.get(f.family_id) || "Family"), ": ", f.reason || ""))), { level: 2 })
      : null,
    openConflicts ? h("p", { class: "hs-body" }, tag("Needs a decision", "orange"), " ",
      h("a", { href: "#/conflicts", "data-testid": "conflicts-link" },
        `${openConflicts} ${openConflicts === 1 ? "change clashes" : "changes clash"} with a colleague's`)) : null,
    h("section", { "aria-labelledby": "today-visits", "data-testid": "today-visits" },
      h("h2", { id: "today-visits", class: "hs-h2" }, "Visits"),
      planned.length
        ? h("ul", { class: "hs-card-list" }, planned.map((v) => visitCard(v, famName.get(v.family_id), today)))
        : emptyState(`No visits planned in the next ${DAYS_AHEAD} days.`)),
    h("section", { "aria-labelledby": "today-followups", "data-testid": "today-followups" },
      h("h2", { id: "today-followups", class: "hs-h2" }, "Follow-ups due"),
      overdue.length || dueToday.length
        ? h("ul", { class: "hs-card-list" },
            overdue.map((f) => followUpCard(f, famName.get(f.family_id), today, people)),
            dueToday.map((f) => followUpCard(f, famName.get(f.family_id), today, people)))
        : emptyState("Nothing due today or overdue."),
      h("p", { class: "hs-body" }, h("a", { href: "#/follow-ups" }, "All my follow-ups"))),
    h("section", { "aria-labelledby": "today-sync" },
      h("h2", { id: "today-sync", class: "hs-h2" }, "Sync"),
      syncSummary(sync.status()),
      h("p", { class: "hs-body" }, h("a", { href: "#/sync" }, "Sync details"))),
  );
  return follow(["visit", "follow_up", "family", "flag", "conflict"]);
}

function visitCard(v, family, today) {
  const day = dayKey(v.planned_for);
  const late = v.status === "planned" && day < today;
  return h("li", {},
    card({ "data-testid": "visit-card" },
      h("h3", { class: "hs-card__heading" },
        h("a", { href: `#/visit/${v.id}`, class: "hs-card__link" }, `${family || "Family"} – ${visitTypeLabel(v.type)}`)),
      h("p", { class: "hs-body" }, `${relDay(day)}, ${fmtDay(v.planned_for)}${fmtTime(v.planned_for) ? " at " + fmtTime(v.planned_for) : ""}`),
      v.status === "in-progress" ? tag("In progress", "blue") : late ? tag("Not yet recorded", "orange") : null));
}

export function followUpCard(f, family, today, people = new Map()) {
  const day = dueKey(f);
  const late = day < today;
  return h("li", {},
    card({ class: late ? "hs-card hs-card--overdue" : "hs-card", "data-testid": "followup-card" },
      h("p", { class: "hs-body hs-card__heading" }, h("a", { href: `#/family/${f.family_id}` }, family || "Family")),
      aboutWhom(f, people),
      h("p", { class: "hs-body" }, f.text || ""),
      h("p", { class: "hs-body" },
        late ? tag(`Overdue by ${daysBetween(day, today)} ${daysBetween(day, today) === 1 ? "day" : "days"}`, "red")
             : tag("Due today", "yellow"),
        " ", h("span", { class: "hs-hint" }, `Due ${fmtDay(f.due_at)}`))));
}
