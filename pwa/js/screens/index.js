// The screens' route table. The router loads each module on first use, so the first load
// only carries the shell and the screen that is opened.
export const routes = [
  { pattern: "#/today", title: "Today", load: () => import("./today.js") },
  { pattern: "#/caseload", title: "Caseload", load: () => import("./caseload.js") },
  { pattern: "#/family/:familyId", load: () => import("./family.js") },
  { pattern: "#/visit/:visitId", load: () => import("./visit.js") },
  { pattern: "#/visit/:visitId/:step", load: () => import("./visit.js") },
  { pattern: "#/visit/:visitId/checklist/:checklistId/:subjectId", load: () => import("./visit.js") },
  { pattern: "#/follow-ups", title: "My follow-ups", load: () => import("./followups.js") },
  { pattern: "#/followups", title: "My follow-ups", load: () => import("./followups.js") },
  { pattern: "#/sync", title: "Sync", load: () => import("./sync.js") },
  { pattern: "#/conflicts", title: "Conflicts", load: () => import("./conflicts.js") },
  { pattern: "#/account", title: "Your account", load: () => import("./account.js") },
  // Supervisor screens (push branch: screens/supervisor.js); a no-op until it is merged.
  { pattern: "#/supervisor", title: "Team overview", load: () => import("./supervisor.js") },
  { pattern: "#/flags/:flagId", title: "Flag", load: () => import("./supervisor.js") },
  { pattern: "#/follow-ups/:followUpId", title: "Follow-up", load: () => import("./supervisor.js") },
];
export default routes;
