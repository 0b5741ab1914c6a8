// Waiting for a decision (supervisors and admins): what the server kept rather than lost.
// - Uploads held on the server: a revoked phone's last work, and changes sent while the
//   family was off the writer's caseload. Accept applies one exactly as its writer made it
//   (through the server's one merge); decline keeps it on file, unapplied.
// - Entries kept that need a person to look at them (their visit or person was deleted
//   meanwhile, or recorded while the family was not allocated).
// - Changes the server refused, with the reason (each phone also shows its own).
// These lists live on the server, not in the phone's vault: the screen needs a connection
// and keeps nothing.
import { h, fill, screenTitle, tag, card, fmtDayTime, emptyState, button, summaryList, backLink, statusLine,
         valueInWords } from "./common.js";
import * as schema from "../generated/model.js";
import { list, me } from "./data.js";
import { rerender } from "../router.js";
import * as api from "../api.js";

const HELD_KIND = {
  "device-revoked": "Sent from a phone that has been revoked",
  "out-of-reach": "Sent while the family was not on the writer's caseload",
};

const isReviewer = (user) => !!user && (user.role === "supervisor" || user.role === "admin");

// What the op would write, as the writer wrote it: a field and its value, or a new record's values.
function opRows(op) {
  if (!op) return [];
  const say = (field, v) => valueInWords(op.entity, field, v);
  if (op.type === "set") return [[String(op.field || "").replaceAll("_", " "), say(op.field, op.value)]];
  if (op.type === "create") return Object.entries(op.values || {}).filter(([k]) => !k.endsWith("_id"))
    .map(([k, v]) => [k.replaceAll("_", " "), say(k, v)]);
  if (op.type === "delete") return [["Change", "Delete this record"]];
  return [["Change", op.type]];
}

function heldCard(item, famName) {
  const status = statusLine({ "data-testid": "held-status" });
  const decide = (accept) => async () => {
    try {
      const res = await api.post(`/api/v1/sync/held/${item.id}/${accept ? "accept" : "decline"}`, {});
      status.textContent = accept ? (res.status === "applied" ? "Applied" : `Not applied: ${res.reason || res.status}`) : "Declined: kept on file";
      setTimeout(rerender, 800);
    } catch (err) {
      status.textContent = err && err.status === 0 ? "No connection: try again when online." : `Not done: ${err.message}`;
    }
  };
  return card({ "data-testid": "held", "data-held-id": item.id, "data-kind": item.kind },
    h("h3", { class: "hs-h3" }, famName.get(item.family_id) || "A family"),
    h("p", { class: "hs-body" }, tag(HELD_KIND[item.kind] || item.kind, "yellow"), " ", item.reason),
    h("p", { class: "hs-hint" }, `${String(item.entity || "").replaceAll("_", " ")} · received ${fmtDayTime(item.received_at)}`),
    summaryList(opRows(item.op)),
    h("div", { class: "hs-button-group" },
      button("Accept and apply", decide(true), { "data-testid": "held-accept" }),
      button("Decline", decide(false), { secondary: true, "data-testid": "held-decline" })),
    status);
}

function attentionCard(item, famName) {
  return card({ "data-testid": "attention", "data-entity-id": item.id },
    h("h3", { class: "hs-h3" }, h("a", { href: `#/family/${item.family_id}` }, famName.get(item.family_id) || "A family")),
    h("p", { class: "hs-body" }, tag(schema.label("observation", "attention", item.attention) || item.attention, "yellow")),
    h("p", { class: "hs-body" }, item.text),
    h("p", { class: "hs-hint" }, `${item.entity} · recorded ${fmtDayTime(item.recorded_at)}`));
}

function refusedCard(item, famName) {
  return card({ "data-testid": "quarantined", "data-op-id": item.op_id || "" },
    h("h3", { class: "hs-h3" }, famName.get(item.family_id) || "A family"),
    h("p", { class: "hs-body" }, tag("Refused", "red"), " ", item.reason),
    h("p", { class: "hs-hint" }, `${String(item.entity || "").replaceAll("_", " ")} · received ${fmtDayTime(item.received_at)}`),
    summaryList(opRows(item.op)));
}

async function fetchAll() {
  const [held, attention, refused] = await Promise.all([
    api.get("/api/v1/sync/held"), api.get("/api/v1/sync/attention"), api.get("/api/v1/sync/quarantine")]);
  return { held, attention, refused };
}

export async function render(root) {
  const user = await me();
  fill(root, backLink("Team overview", "#/supervisor"), ...screenTitle("Waiting for a decision"));
  if (!isReviewer(user)) { fill(root, emptyState("This screen is for supervisors.")); return; }
  let data;
  try {
    data = await fetchAll();
  } catch (err) {
    fill(root, emptyState(err && err.status === 0 ? "Connect to see what is waiting on the server." : `Could not load: ${err.message}`));
    return;
  }
  const famName = new Map((await list("family")).map((f) => [f.id, f.family_name]));
  fill(root,
    h("h2", { class: "hs-h2" }, "Uploads held on the server"),
    data.held.length ? h("div", { "data-testid": "held-list" }, data.held.map((x) => heldCard(x, famName)))
      : emptyState("Nothing is held."),
    h("h2", { class: "hs-h2" }, "Entries that need a look"),
    data.attention.length ? h("div", { "data-testid": "attention-list" }, data.attention.map((x) => attentionCard(x, famName)))
      : emptyState("Nothing needs a look."),
    h("h2", { class: "hs-h2" }, "Changes the server refused"),
    data.refused.length ? h("div", { "data-testid": "quarantine-list" }, data.refused.map((x) => refusedCard(x, famName)))
      : emptyState("Nothing was refused."));
}
