// Sync status: what is waiting, when sync last worked, the last failure in plain words,
// and each record's status. A failure is never shown as success.
import * as sync from "../sync.js";
import { h, fill, screenTitle, tag, summaryList, fmtDayTime, button, emptyState, warningCallout, visitTypeLabel } from "./common.js";
import { list, get } from "./data.js";
import { ENTITIES } from "../generated/model.js";
import { plainReason } from "../refused.js";

const STATE_LABEL = {
  idle: ["Up to date", "green"],
  syncing: ["Syncing", "blue"],
  offline: ["Offline", "grey"],
  error: ["Sync failed", "red"],
};
const RECORD_STATUS = {
  waiting: ["Waiting to send", "grey"],
  sent: ["Sent, not yet confirmed", "blue"],
  confirmed: ["Confirmed", "green"],
  conflict: ["Conflict – needs a decision", "orange"],
  held: ["Waiting on the server", "yellow"],
  rejected: ["Not accepted by the server", "red"],
};
// Said under a held change: the server has it, but has not applied it yet.
const HELD_HINT = "The server has this but has not applied it yet: the family is not on your caseload just now, or a supervisor is checking it. Nothing is needed from you.";
const ENTITY_LABEL = {
  family: "Family details", person: "Person", relationship: "Relationship", allocation: "Allocation",
  visit: "Visit", checklist_response: "Checklist answer", observation: "Observation", addendum: "Addendum",
  follow_up: "Follow-up", flag: "Flag", conflict: "Conflict resolution",
};

function norm(s) {
  s = s || {};
  const failure = s.last_failure ?? s.lastFailure ?? null;
  return {
    pending: s.pending ?? 0,
    state: s.state || "idle",
    lastSuccessAt: s.lastSuccessAt ?? s.last_success_at ?? null,
    lastFailure: failure && typeof failure === "object" ? failure.message : failure,
    lastFailureAt: failure && typeof failure === "object" ? failure.at : s.lastFailureAt ?? null,
    rejected: s.rejected ?? 0,
    conflicts: s.conflicts ?? 0,
    held: s.held ?? 0,
  };
}

// "Up to date" only when it is: nothing refused, waiting or held. An error state stays
// "failed" whatever the counts: we never imply the data is safe.
function stateLabel(s) {
  if (s.state !== "idle") return STATE_LABEL[s.state] || [s.state, "grey"];
  if (s.rejected) return ["Not all accepted by the server", "red"];
  if (s.pending) return ["Waiting to send", "yellow"];
  if (s.held) return ["Waiting on the server", "yellow"];
  return STATE_LABEL.idle;
}

export function syncSummary(raw) {
  const s = norm(raw);
  const [label, colour] = stateLabel(s);
  // A failure a later sync has got past is history, not the state of things.
  const failureNow = s.lastFailure && !(s.lastSuccessAt && s.lastFailureAt && s.lastFailureAt <= s.lastSuccessAt);
  return summaryList([
    ["Status", tag(label, colour, { "data-testid": "sync-state", "data-state": s.state })],
    ["Waiting to send", h("span", { "data-testid": "sync-pending" }, String(s.pending))],
    s.held ? ["Waiting on the server", h("span", { "data-testid": "sync-held" }, String(s.held))] : null,
    s.rejected ? ["Not accepted by the server", h("span", { "data-testid": "sync-rejected" }, String(s.rejected))] : null,
    ["Last successful sync", s.lastSuccessAt ? fmtDayTime(s.lastSuccessAt) : "Never"],
    failureNow ? ["Last failure", h("span", { "data-testid": "sync-failure" },
      s.lastFailure, s.lastFailureAt ? ` (${fmtDayTime(s.lastFailureAt)})` : "")] : null,
  ], { "data-testid": "sync-summary" });
}

const RANK = { rejected: 0, conflict: 1, waiting: 2, sent: 3, held: 4, confirmed: 5 };

// One row per record (a visit's answers are many ops): its least-settled status wins.
async function recordRows() {
  const byRecord = new Map();
  const add = (entity, id, status, reason, field, familyId = null) => {
    const key = `${entity}|${id}`;
    const row = byRecord.get(key) || { entity, id, status, reason: null, fields: new Set(), count: 0, familyId };
    if ((RANK[status] ?? 9) < (RANK[row.status] ?? 9)) row.status = status;
    if (reason && !row.reason) row.reason = reason;
    if (field) row.fields.add(field);
    row.count += 1;
    byRecord.set(key, row);
  };
  const outbox = typeof sync.outbox === "function" ? await sync.outbox() : null;
  if (Array.isArray(outbox)) {
    for (const o of outbox) add(o.entity || (o.type === "resolve" ? "conflict" : "?"), o.entity_id || o.conflict_id, o.status, o.reason, o.field, o.family_id);
  } else {
    for (const entity of ENTITIES) {
      for (const r of await list(entity)) if (r._sync && r._sync !== "confirmed") add(entity, r.id, r._sync);
    }
  }
  const rows = [...byRecord.values()].sort((a, b) => (RANK[a.status] ?? 9) - (RANK[b.status] ?? 9));
  // Where a refused change was made, so it can be corrected there.
  for (const r of rows.filter((x) => x.status === "rejected")) {
    const rec = r.entity === "visit" ? null : await get(r.entity, r.id).catch(() => null);
    r.href = r.entity === "visit" ? `#/visit/${r.id}` : rec && rec.visit_id ? `#/visit/${rec.visit_id}`
      : r.familyId ? `#/family/${r.familyId}` : null;
  }
  return rows;
}

export async function render(root) {
  const status = sync.status();
  const s = norm(status);
  const rows = await recordRows();
  const [visits, families, conflicts] = await Promise.all([list("visit"), list("family"), list("conflict")]);
  const openConflicts = conflicts.filter((c) => c.status !== "resolved").length;
  const famName = new Map(families.map((f) => [f.id, f.family_name]));
  const visitLabel = new Map(visits.map((v) => [v.id, `${famName.get(v.family_id) || "Family"} – ${visitTypeLabel(v.type)}`]));

  const syncBtn = button("Sync now", async () => {
    syncBtn.disabled = true;
    syncBtn.textContent = "Syncing…";
    await sync.now();
    root.replaceChildren();
    await render(root);
  }, { "data-testid": "sync-now" });

  const grouped = rows.filter((r) => r.status !== "confirmed");
  const summarySlot = h("div", {}, syncSummary(status));
  fill(root, 
    ...screenTitle("Sync"),
    s.state === "error" && s.pending
      ? warningCallout("Your latest changes are not on the server yet",
          h("p", { class: "hs-body" }, `${s.pending} ${s.pending === 1 ? "change is" : "changes are"} kept safely on this phone and will be sent when sync works again.`), { level: 2 })
      : null,
    summarySlot,
    syncBtn,
    openConflicts ? h("p", { class: "hs-body" }, h("a", { href: "#/conflicts", "data-testid": "conflicts-link" },
      `${openConflicts} ${openConflicts === 1 ? "conflict needs" : "conflicts need"} a decision`)) : null,
    h("h2", { class: "hs-h2" }, "Changes on this phone"),
    grouped.length
      ? h("table", { class: "hs-table", "data-testid": "sync-records" },
          h("caption", { class: "hs-visually-hidden" }, "Changes not yet confirmed by the server"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Record"), h("th", { scope: "col" }, "Status"))),
          h("tbody", {}, grouped.map((r) => {
            const [label, colour] = RECORD_STATUS[r.status] || [r.status || "Unknown", "grey"];
            const what = ENTITY_LABEL[r.entity] || r.entity;
            const where = r.entity === "visit" ? visitLabel.get(r.id) : null;
            return h("tr", { "data-testid": "sync-record", "data-status": r.status || "" },
              h("td", {}, what, r.count > 1 ? ` (${r.count} changes)` : "", where ? h("div", { class: "hs-hint" }, where) : null),
              h("td", {}, tag(label, colour),
                r.status === "held" ? h("div", { class: "hs-hint" }, HELD_HINT)
                  : r.status === "rejected" ? h("div", { class: "hs-hint" }, plainReason(r.reason),
                      r.href ? h("a", { href: r.href, class: "hs-block", "data-testid": "sync-record-open" }, "Open it to correct it or send it again") : null)
                  : r.reason ? h("div", { class: "hs-hint" }, r.reason) : null));
          })))
      : emptyState("Everything on this phone has been confirmed by the server."),
  );

  // Keep the figures live while the screen is open (a sync may finish while reading it).
  const off = typeof sync.subscribe === "function" ? sync.subscribe((st) => summarySlot.replaceChildren(syncSummary(st))) : null;
  return () => { if (typeof off === "function") off(); };
}
