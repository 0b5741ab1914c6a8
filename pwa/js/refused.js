// Changes the server refused. They stay on the phone, shown where they were made, until a
// person corrects and sends them again (new ops, new op ids) or lets them go after copying
// them or adding them to an addendum. Nothing refused is dropped without a person's say.
import * as vault from './vault.js';
import * as sync from './sync.js';
import { ENTITY_STORE, label } from './generated/model.js';
import { check } from './model.js';

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Refused records, one per record: {entity, id, family_id, created, values, reasons, seqs, at}.
 * `values` holds what the refused changes would have written ({field: value}), in order.
 * filter: {entity_id} or a predicate over the record.
 */
export function records(filter = null) {
  const by = new Map();
  for (const e of sync.rejectedEntries()) {
    const op = e.op;
    if (op.type === 'resolve' || !op.entity_id) continue;
    const key = `${op.entity}|${op.entity_id}`;
    const r = by.get(key) || { entity: op.entity, id: op.entity_id, family_id: op.family_id, created: false,
                               values: {}, reasons: [], seqs: [], at: e.at };
    if (op.type === 'create') { r.created = true; Object.assign(r.values, op.values || {}); }
    if (op.type === 'set') r.values[op.field] = op.value;
    if (op.type === 'delete') r.deleted = true;
    if (e.reason && !r.reasons.includes(e.reason)) r.reasons.push(e.reason);
    r.seqs.push(e.id);
    by.set(key, r);
  }
  let out = [...by.values()];
  if (typeof filter === 'function') out = out.filter(filter);
  else if (filter && filter.entity_id) out = out.filter((r) => r.id === filter.entity_id);
  return out;
}

export const forRecord = (id) => records({ entity_id: id })[0] || null;

// The server's reasons name fields, never values. Said here as a practitioner would.
const PLAIN = [
  [/visit is signed/, 'The visit was signed (on this phone or another device) before this reached the server, so it could not be added to the visit. Add it as an addendum instead.'],
  [/is longer than (\d+) characters/, (m) => `It is longer than the ${m[1]} characters allowed.`],
  [/is longer than (\d+) bytes/, () => 'It is longer than the server allows.'],
  [/is not one of the allowed values|is not a known state/, 'It uses an option the server does not offer (this phone may have an older version of the app).'],
  [/is required/, 'Something it needs was missing.'],
  [/append-only|kept for good/, 'Entries are never changed once recorded: add a new entry instead.'],
  [/own worker or a supervisor|cannot change|cannot create|cannot delete|for themselves only/, 'Your role cannot make this change: ask your supervisor.'],
  [/was deleted|no such record|does not name a record/, 'What it belongs to is no longer on the server.'],
  [/is (done|cancelled|closed)/, 'It was finished on the server before this change reached it.'],
];

export function plainReason(reason) {
  const text = reason || '';
  for (const [re, say] of PLAIN) {
    const m = re.exec(text);
    if (m) return typeof say === 'function' ? say(m) : say;
  }
  return text ? `The server did not accept it (${text}).` : 'The server did not accept it.';
}

/** The text a person would want to keep from a refused record (for copying). */
export function textOf(r, describe = null) {
  const parts = [];
  for (const [field, value] of Object.entries(r.values)) {
    if (typeof value !== 'string' || !value.trim()) continue;
    if (field === 'kind' || field === 'status' || field.endsWith('_id') || field.endsWith('_at')) continue;
    parts.push(value);
  }
  if (!parts.length && describe) return describe(r);
  return parts.join('\n');
}

/** A choice value as the model labels it (for a refused kind or status). */
export const choiceLabel = (r, field) => label(r.entity, field, r.values[field]);

/** Send a refused record again with `changes` ({field: value}) as new ops. */
export async function resend(entity, id, changes = {}) {
  const store = ENTITY_STORE[entity];
  await sync.exclusive(async () => {
    const r = forRecord(id);
    if (!r) return;
    const rec = await vault.get(store, id);
    if (!rec) throw new Error('That record is not on this phone.');
    const values = { ...r.values, ...changes };
    let newOps;
    if (r.created && !(rec.version > 0)) {
      // Never stored on the server: create it again, with every refused change in it.
      check(entity, values, { creating: true });
      newOps = [{ type: 'create', entity, entity_id: id, family_id: r.family_id, values }];
    } else {
      check(entity, values);
      newOps = Object.entries(values).map(([field, value]) => ({
        type: 'set', entity, entity_id: id, family_id: r.family_id, field, value,
        base_version: (rec.field_versions && rec.field_versions[field]) || 0,
      }));
    }
    Object.assign(rec, values);
    await sync.commit({ records: [{ store, id, fid: rec.family_id, obj: rec }], newOps, dropped: r.seqs });
  });
  sync.emitChange(entity, [id]);
  sync.now();
}

/** Let a refused record's changes go: the phone shows what the server holds again. */
export async function settle(entity, id) {
  const store = ENTITY_STORE[entity];
  await sync.exclusive(async () => {
    const r = forRecord(id);
    if (!r) return;
    const rec = await vault.get(store, id);
    const entries = sync.rejectedEntries().filter((e) => r.seqs.includes(e.id));
    const records = []; const removes = [];
    if (rec && r.created && !(rec.version > 0)) {
      removes.push({ store, id }); // it was never on the server
    } else if (rec) {
      for (const e of entries.reverse()) {
        if (e.op.type === 'set' && 'prev' in e && same(rec[e.op.field], e.op.value)) rec[e.op.field] = e.prev;
      }
      records.push({ store, id, fid: rec.family_id, obj: rec });
    }
    await sync.commit({ records, removes, dropped: r.seqs });
  });
  sync.emitChange(entity, [id]);
}
