// All the screens' reads and writes. A write puts the encrypted record and its outbox op
// in one IndexedDB transaction, so a crash leaves either both or neither.
import * as vault from './vault.js';
import * as sync from './sync.js';
import * as session from './session.js';
import * as schema from './generated/model.js';
import { ENTITY_STORE } from './generated/model.js';

export { ENTITY_STORE };
const STABLE_NAMESPACE = '6c1c3a52-3f0e-4f61-9f1e-6d0f0a6b8e21';

function storeOf(entity) {
  const s = ENTITY_STORE[entity];
  if (!s) throw new Error(`Unknown entity ${entity}`);
  return s;
}

export const uuidv7 = sync.uuidv7;

/** uuid5 in the contract's namespace over parts joined by \x1f (server.ids.stable_id). */
export async function stableId(...parts) {
  const ns = STABLE_NAMESPACE.replace(/-/g, '').match(/../g).map((x) => parseInt(x, 16));
  const name = new TextEncoder().encode(parts.join('\x1f'));
  const data = new Uint8Array(16 + name.length);
  data.set(ns, 0); data.set(name, 16);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', data)).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50; hash[8] = (hash[8] & 0x3f) | 0x80;
  const x = [...hash].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
export const responseId = (visitId, checklistId, subjectId, itemId) => stableId(visitId, checklistId, subjectId, itemId);

function decorate(entity, rec) {
  if (!rec) return null;
  return { ...rec, _sync: sync.recordStatus(entity, rec.id) };
}

export async function get(entity, id) {
  return decorate(entity, await vault.get(storeOf(entity), id));
}

/** Live records of an entity, optionally filtered by {field: value} equality. */
export async function list(entity, filter = null) {
  const store = storeOf(entity);
  let rows;
  if (filter && filter.family_id && Object.keys(filter).length >= 1) rows = await vault.byFamily(store, filter.family_id);
  else rows = await vault.all(store);
  return rows.filter((r) => r && !r.deleted && (!filter || Object.entries(filter).every(([k, v]) => r[k] === v)))
    .map((r) => decorate(entity, r));
}
export const all = (entity) => list(entity);
export const byFamily = (entity, familyId) => list(entity, { family_id: familyId });

/** A value the server would refuse: thrown before anything is saved or queued, so no screen
 * can keep on the phone what the server will not take. `field` names the field. */
export class InvalidValue extends Error {
  constructor(entity, field, reason) {
    super(`This cannot be saved: ${reason}.`);
    this.name = 'InvalidValue';
    this.entity = entity; this.field = field; this.reason = reason;
  }
}

// Bookkeeping the phone keeps on its own records, never sent as a field.
const LOCAL = new Set(['id', 'family_id', 'version', 'field_versions', 'deleted']);

/** Throw InvalidValue unless every value is one the model allows (type, choice, length). */
export function check(entity, values, { creating = false } = {}) {
  if (!schema.entity(entity)) throw new Error(`Unknown entity ${entity}`);
  for (const [name, value] of Object.entries(values || {})) {
    if (LOCAL.has(name) || name.startsWith('_')) continue;
    const reason = schema.problem(entity, name, value);
    if (reason) throw new InvalidValue(entity, name, reason);
  }
  if (creating) {
    const e = schema.entity(entity);
    // The server fills the owner (a visit's practitioner) from whoever is signed in.
    const mine = e.owner && (session.user() || {}).role === 'practitioner' ? e.owner : null;
    for (const [name, f] of Object.entries(e.fields)) {
      if (name === mine) continue;
      if (f.required && !f.server_owned && (values[name] === null || values[name] === undefined)) {
        throw new InvalidValue(entity, name, `${name} is required`);
      }
    }
  }
}

function same(a, b) { return JSON.stringify(a ?? null) === JSON.stringify(b ?? null); }

/**
 * Create a record (or, when the id exists here already, change the fields that differ).
 * Returns the record.
 */
export async function create(entity, values, opts = {}) {
  const store = storeOf(entity);
  const { id: vid, family_id: vfid, ...fields } = values || {};
  const id = opts.id || vid || uuidv7();
  const familyId = entity === 'family' ? id : (opts.family_id || opts.familyId || vfid);
  if (!familyId) throw new Error('A family_id is needed to create a record.');
  const existing = await vault.get(store, id);
  if (existing && !existing.deleted) return update(entity, id, fields);
  check(entity, fields, { creating: true });
  return sync.exclusive(async () => {
    const rec = { id, family_id: familyId, ...fields, version: 0, field_versions: {}, deleted: false };
    await sync.commit({
      records: [{ store, id, fid: familyId, obj: rec }],
      newOps: [{ type: 'create', entity, entity_id: id, family_id: familyId, values: fields }],
    });
    sync.emitChange(entity, [id]);
    return decorate(entity, rec);
  });
}

/** Change fields: one `set` op per changed field; folded into ops not yet sent. */
export async function update(entity, id, changes) {
  const store = storeOf(entity);
  check(entity, Object.fromEntries(Object.entries(changes || {}).filter(([k]) => !LOCAL.has(k))));
  return sync.exclusive(async () => {
    const rec = await vault.get(store, id);
    if (!rec || rec.deleted) throw new Error('That record is not on this phone.');
    const pend = sync.pendingFor(id);
    const changed = new Map();
    const newOps = [];
    let any = false;
    for (const [field, value] of Object.entries(changes || {})) {
      if (field === 'id' || field === 'family_id' || field.startsWith('_') || field === 'version' || field === 'field_versions') continue;
      if (same(rec[field], value)) continue;
      const prev = rec[field] ?? null;
      rec[field] = value;
      any = true;
      // Fold into an unsent op only when it is the newest op queued: folding into an older
      // one would send this change ahead of ops queued after it (a visit's signature ahead
      // of its answers, which the server would then refuse as edits to a signed visit).
      const newest = sync.newestSeq();
      const waitingCreate = pend.find((e) => e.status === 'waiting' && e.op.type === 'create' && e.id === newest);
      if (waitingCreate) {
        const e = changed.get(waitingCreate.id) || structuredClone(waitingCreate);
        e.op.values = { ...e.op.values, [field]: value };
        changed.set(e.id, e);
        continue;
      }
      const waitingSet = pend.filter((e) => e.status === 'waiting' && e.op.type === 'set' && e.op.field === field && e.id === newest).pop();
      if (waitingSet) {
        const e = changed.get(waitingSet.id) || structuredClone(waitingSet);
        e.op.value = value;
        changed.set(e.id, e);
        continue;
      }
      // An earlier op of ours on this field (or the create) is still unanswered: this op's
      // base is the version that answer brings, filled in when it is sent.
      const inFlight = pend.some((e) => (e.status === 'sent' || e.status === 'waiting')
        && (e.op.type === 'create' || (e.op.type === 'set' && e.op.field === field)));
      newOps.push({
        type: 'set', entity, entity_id: id, family_id: rec.family_id, field, value,
        base_version: (rec.field_versions && rec.field_versions[field]) || 0, chain: inFlight, prev,
      });
    }
    if (!any) return decorate(entity, rec);
    await sync.commit({ records: [{ store, id, fid: rec.family_id, obj: rec }], newOps, changed: [...changed.values()] });
    sync.emitChange(entity, [id]);
    return decorate(entity, rec);
  });
}
export const setFields = update;
export const setField = (entity, id, field, value) => update(entity, id, { [field]: value });

/** Tombstone a record (not observations, addenda or signed visits: the server refuses). */
export async function remove(entity, id) {
  const store = storeOf(entity);
  return sync.exclusive(async () => {
    const rec = await vault.get(store, id);
    if (!rec || rec.deleted) return;
    rec.deleted = true;
    await sync.commit({
      records: [{ store, id, fid: rec.family_id, obj: rec }],
      newOps: [{ type: 'delete', entity, entity_id: id, family_id: rec.family_id }],
    });
    sync.emitChange(entity, [id]);
  });
}

/** Resolve a conflict with a chosen (or combined) value. */
export async function resolve(conflictId, value) {
  const conflict = await vault.get('conflicts', conflictId);
  if (conflict && schema.field(conflict.entity, conflict.field)) check(conflict.entity, { [conflict.field]: value });
  return sync.exclusive(async () => {
    const c = await vault.get('conflicts', conflictId);
    const records = [];
    if (c) {
      const rc = { ...c, status: 'resolved', resolution: value };
      records.push({ store: 'conflicts', id: conflictId, fid: c.family_id, obj: rc });
      const target = ENTITY_STORE[c.entity];
      if (target) {
        const rec = await vault.get(target, c.entity_id);
        if (rec) { rec[c.field] = value; records.push({ store: target, id: rec.id, fid: rec.family_id, obj: rec }); }
      }
    }
    await sync.commit({ records, newOps: [{ type: 'resolve', conflict_id: conflictId, value }] });
    sync.emitChange('conflict', [conflictId]);
  });
}
export const resolveConflict = resolve;

export function me() { return session.user(); }

export async function content() { return vault.get('content', 'current'); }

// Drafts: encrypted, never synced (half-typed text before it is an answer).
export async function saveDraft(id, data) { await vault.put('drafts', id, { data, at: Date.now() }); }
export async function loadDraft(id) { const d = await vault.get('drafts', id); return d ? d.data : null; }
export async function clearDraft(id) { await vault.remove('drafts', id); }

export function subscribe(fn) { return sync.onChange(fn); }
export function on(_event, fn) { return sync.onChange(fn); }
