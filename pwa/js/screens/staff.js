// Colleagues by name: who decided on a flag, who a follow-up is for. Staff names are not
// records of a family, so they come from GET /api/v1/team when online and are kept in an
// encrypted draft for offline use; an id never reaches the screen (an unknown colleague is
// "a colleague").
import * as api from "../api.js";
import { model, me } from "./data.js";

const DRAFT = "team-directory";
const FRESH_MS = 5 * 60 * 1000;
let memo = null;  // {at, user, names}: for the person signed in now, never a previous one

async function fetchTeam() {
  const rows = await api.get("/api/v1/team");
  const names = Object.fromEntries((rows || []).map((r) => [r.id, { name: r.display_name, role: r.role }]));
  await model.saveDraft(DRAFT, names).catch(() => null);
  return names;
}

/** A Map of user id -> {name, role}; from the server when it can, else the last copy. */
export async function staff() {
  const user = ((await me()) || {}).user_id || null;
  if (memo && memo.user === user && Date.now() - memo.at < FRESH_MS) return memo.names;
  memo = null;
  let names = null;
  if (navigator.onLine) names = await fetchTeam().catch(() => null);
  if (names) memo = { at: Date.now(), user, names: new Map(Object.entries(names)) };
  else names = await model.loadDraft(DRAFT).catch(() => null);
  return memo ? memo.names : new Map(Object.entries(names || {}));
}

/** How a screen names a member of staff: "you" for the person holding the phone. */
export async function namer() {
  const [names, user] = await Promise.all([staff(), me()]);
  return (id, { you = "You" } = {}) => {
    if (!id) return "Not assigned";
    if (user && id === user.user_id) return you;
    const known = names.get(id);
    return known ? known.name : "A colleague";
  };
}
