// The screens' route table. The router loads each module on first use, so the first load
// only carries the shell and the screen that is opened.
export const routes = [
  { pattern: "#/today", title: "Today", load: () => import("./today.js") },
  { pattern: "#/caseload", title: "Caseload", load: () => import("./caseload.js") },
  { pattern: "#/family/:familyId", title: "Family", load: () => import("./family.js") },
  { pattern: "#/family/:familyId/chronology/:personId", title: "Chronology", load: () => import("./chronology.js") },
  { pattern: "#/family/:familyId/genogram", title: "Genogram", load: () => import("./genogram.js") },
  { pattern: "#/visit/:visitId", title: "Visit", load: () => import("./visit.js") },
  { pattern: "#/visit/:visitId/:step", title: "Visit", load: () => import("./visit.js") },
  { pattern: "#/visit/:visitId/checklist/:checklistId/:subjectId", title: "Checklist", load: () => import("./visit.js") },
  { pattern: "#/follow-ups", title: "My follow-ups", load: () => import("./followups.js") },
  { pattern: "#/followups", title: "My follow-ups", load: () => import("./followups.js") },
  { pattern: "#/sync", title: "Sync", load: () => import("./sync.js") },
  { pattern: "#/conflicts", title: "Conflicts", load: () => import("./conflicts.js") },
  { pattern: "#/account", title: "Your account", load: () => import("./account.js") },
  // Supervisors and admins.
  { pattern: "#/supervisor", title: "Team overview", load: () => import("./supervisor.js") },
  { pattern: "#/team/families", title: "Allocate families", load: () => import("./team.js") },
  { pattern: "#/team/follow-ups", title: "Team follow-ups", load: () => import("./team.js") },
  { pattern: "#/review", title: "Waiting for a decision", load: () => import("./review.js") },
  { pattern: "#/flags/:flagId", title: "Flag", load: () => import("./supervisor.js") },
  { pattern: "#/follow-ups/:followUpId", title: "Follow-up", load: () => import("./supervisor.js") },
];
export default routes;
