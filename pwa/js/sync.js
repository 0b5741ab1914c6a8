// The sync client (docs/sync.md): an encrypted outbox with gap-free client_seq, an HLC,
// push then pull, purge / upload / wipe instructions, retries with backoff. A failure is
// never reported as success: `state` only becomes 'idle' after a push and pull that worked.
import * as idb from './idb.js';
import * as vault from './vault.js';
import * as api from './api.js';
import * as session from './session.js';
import { ENTITY_STORE } from './generated/model.js';

export { ENTITY_STORE };
const PUSH_BATCH = 200;
const PULL_LIMIT = 500;
const PERIOD_MS = 3 * 60 * 1000;
const BACKOFF_BASE_MS = 5000;
const BACKOFF_MAX_MS = 5 * 60 * 1000;

// -- state held in memory while unlocked ------------------------------------------------
let meta = null;            // {client_seq, cursor, hlc: {wall, counter}, last_success_at, last_failure, marks}
let outbox = new Map();     // client_seq → entry {id, op, status, reason, at, chain}
let running = null;
let again = false;
let failuresInARow = 0;
let retryTimer = null;
let periodTimer = null;
let nextRetryAt = null;
let state = 'idle';
let started = false;
const statusListeners = new Set();
const changeListeners = new Set();

// -- a mutex so local writes, push results and pulls never interleave their read-modify-writes
let chain = Promise.resolve();
export function exclusive(fn) {
  const run = chain.then(fn, fn);
  chain = run.catch(() => {});
  return run;
}

function freshMeta() {
  return { client_seq: 0, cursor: 0, hlc: { wall: 0, counter: 0 }, last_success_at: null, last_failure: null, marks: {}, source: null };
}

/** Load the outbox and sync state (after unlock). */
export function load() {
  // Inside the mutex: a write committing meanwhile must not be lost from memory, and the
  // client_seq counter must never go backwards.
  return exclusive(async () => {
    if (meta) return;
    const m = { ...freshMeta(), ...((await vault.get('meta', 'sync')) || {}) };
    const entries = await vault.all('outbox');
    outbox = new Map(entries.map((e) => [e.id, e]));
    meta = m;
    emitStatus();
  });
}

function unload() { meta = null; outbox = new Map(); }

// -- HLC ---------------------------------------------------------------------------------
function node() { const me = session.user(); return (me && me.device_id) || 'device'; }

function hlcString(h) { return `${String(h.wall).padStart(15, '0')}-${String(h.counter).padStart(5, '0')}-${node()}`; }

export function hlcTick(m = meta) {
  const now = Date.now();
  if (now > m.hlc.wall) m.hlc = { wall: now, counter: 0 };
  else m.hlc = { wall: m.hlc.wall, counter: m.hlc.counter + 1 };
  return hlcString(m.hlc);
}

export function hlcReceive(remote, m = meta) {
  const match = /^(\d{15})-(\d{5})-/.exec(remote || '');
  if (!match || !m) return;
  const rw = Number(match[1]); const rc = Number(match[2]);
  const lw = m.hlc.wall; const lc = m.hlc.counter;
  const wall = Math.max(lw, rw, Date.now());
  let counter = 0;
  if (wall === lw && wall === rw) counter = Math.max(lc, rc) + 1;
  else if (wall === lw) counter = lc + 1;
  else if (wall === rw) counter = rc + 1;
  m.hlc = { wall, counter };
}

// -- ids ---------------------------------------------------------------------------------
export function uuidv7() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// -- writes: records and ops in one IndexedDB transaction ---------------------------------
function requireLoaded() {
  if (!meta) throw new vault.LockedError();
}

/** The client_seq of the newest op in the outbox (0 when empty). */
export function newestSeq() {
  let n = 0;
  for (const e of outbox.values()) if (e.id > n) n = e.id;
  return n;
}

export function pendingFor(entityId) {
  const out = [];
  for (const e of outbox.values()) if (e.op.entity_id === entityId) out.push(e);
  return out;
}

/**
 * Must run inside exclusive(). records: [{store, id, fid, obj}] to put, removes: [{store, id}],
 * newOps: ops without op_id / client_seq / hlc (assigned here), changed: existing outbox
 * entries to rewrite. Memory is updated only after the transaction commits.
 */
export async function commit({ records = [], removes = [], newOps = [], changed = [], dropped = [] }) {
  requireLoaded();
  const m = structuredClone(meta);
  const entries = [];
  for (const raw of newOps) {
    // prev: the field's value before this change, kept on the phone (never sent) so a
    // refused change can be let go and the field show what it held.
    const { chain: chained, prev, ...opFields } = raw;
    m.client_seq += 1;
    const op = { ...opFields, op_id: uuidv7(), client_seq: m.client_seq, hlc: hlcTick(m) };
    const entry = { id: m.client_seq, op, status: 'waiting', reason: null, at: Date.now(), chain: !!chained };
    if (prev !== undefined) entry.prev = prev;
    entries.push(entry);
  }
  // Sealed all at once: WebCrypto works off the main thread, so a page of 500 records is
  // not 500 encryptions one after another.
  const rows = await Promise.all([
    ...records.map((r) => vault.seal(r.store, r.id, r.obj, r.fid).then((row) => [r.store, row])),
    ...[...entries, ...changed].map((e) => vault.seal('outbox', e.id, e).then((row) => ['outbox', row])),
    vault.seal('meta', 'sync', m).then((row) => ['meta', row]),
  ]);
  const stores = [...new Set([...rows.map((r) => r[0]), ...removes.map((r) => r.store), 'outbox'])];
  await idb.transact(stores, 'readwrite', (tx) => {
    for (const [s, row] of rows) tx.objectStore(s).put(row);
    for (const r of removes) tx.objectStore(r.store).delete(r.id);
    for (const id of dropped) tx.objectStore('outbox').delete(id);
  });
  meta = m;
  for (const e of [...entries, ...changed]) outbox.set(e.id, e);
  for (const id of dropped) outbox.delete(id);
  emitStatus();
  return entries;
}

// -- status --------------------------------------------------------------------------------
export function status() {
  let pending = 0; let sent = 0; let rejected = 0; let conflicts = 0; let held = 0;
  for (const e of outbox.values()) {
    if (e.status === 'waiting') pending += 1;
    else if (e.status === 'sent') { pending += 1; sent += 1; }
    else if (e.status === 'rejected') rejected += 1;
    else if (e.status === 'conflict') conflicts += 1;
    else if (e.status === 'held') held += 1;
  }
  const m = meta || {};
  return {
    pending, sent, rejected, conflicts, held, state,
    last_success_at: m.last_success_at || null,
    last_failure: m.last_failure || null,
    lastSuccessAt: m.last_success_at || null,
    lastFailure: m.last_failure ? m.last_failure.message : null,
    next_retry_at: nextRetryAt, nextRetryAt,
    session_ended: session.ended(),
  };
}

function emitStatus() {
  const s = status();
  for (const fn of statusListeners) { try { fn(s); } catch (e) { console.error(e); } }
}

export function on(event, fn) {
  const set = event === 'status' ? statusListeners : changeListeners;
  set.add(fn);
  return () => set.delete(fn);
}
export function subscribe(fn) { return on('status', fn); }
/** fn({entity, ids}) after records change (local write or pull). */
export function onChange(fn) { return on('change', fn); }
export function emitChange(entity, ids) {
  for (const fn of changeListeners) { try { fn({ entity, ids, id: ids && ids[0] }); } catch (e) { console.error(e); } }
}

export function outboxEntries() {
  return [...outbox.values()].sort((a, b) => a.id - b.id).map((e) => ({
    op_id: e.op.op_id, client_seq: e.op.client_seq, type: e.op.type, entity: e.op.entity || 'conflict',
    entity_id: e.op.entity_id || e.op.conflict_id, family_id: e.op.family_id || null, field: e.op.field || null,
    status: e.status, reason: e.reason || null, at: new Date(e.at).toISOString(),
  }));
}
export { outboxEntries as outbox };

// A record's least settled status. 'held': the server keeps the change but has not applied
// it yet (the family is out of reach for now, or a supervisor reviews it): neither synced
// nor refused. 'confirmed' only when the server has answered every change to it.
const SETTLED_ORDER = ['rejected', 'conflict', 'waiting', 'sent', 'held'];
export function recordStatus(_entity, id) {
  const entries = pendingFor(id);
  for (const s of SETTLED_ORDER) if (entries.some((e) => e.status === s)) return s;
  return meta && meta.marks && meta.marks[id] ? meta.marks[id] : 'confirmed';
}

/** Every refused entry, oldest first (copies: the op with its values, the reason). */
export function rejectedEntries() {
  return [...outbox.values()].filter((e) => e.status === 'rejected').sort((a, b) => a.id - b.id).map((e) => structuredClone(e));
}

function fail(message, code = null) {
  if (meta) meta.last_failure = { at: new Date().toISOString(), message, code };
}

// -- push -------------------------------------------------------------------------------------
function unconfirmed() {
  return [...outbox.values()].filter((e) => e.status === 'waiting' || e.status === 'sent').sort((a, b) => a.id - b.id);
}

async function recordOf(entity, id) {
  const store = ENTITY_STORE[entity];
  return store ? vault.get(store, id) : null;
}

async function buildBatch() {
  const batch = [];
  const inBatch = new Set();
  for (const e of unconfirmed()) {
    if (batch.length >= PUSH_BATCH) break;
    const op = { ...e.op };
    if (e.chain && op.type === 'set') {
      // Its base is the version our own earlier op gets back: wait for that answer.
      const earlier = [...inBatch].some((k) => k === op.entity_id);
      if (earlier) break;
      const rec = await recordOf(op.entity, op.entity_id);
      op.base_version = (rec && rec.field_versions && rec.field_versions[op.field]) || 0;
    }
    batch.push([e, op]);
    if (op.entity_id) inBatch.add(op.entity_id);
  }
  return batch;
}

async function pushOnce() {
  const batch = await exclusive(async () => {
    const b = await buildBatch();
    const changed = [];
    for (const [e, op] of b) if (e.status !== 'sent' || e.op.base_version !== op.base_version) changed.push({ ...e, op, status: 'sent' });
    if (changed.length) await commit({ changed });
    return b.map(([, op]) => op);
  });
  if (!batch.length) return false;
  let res;
  try {
    res = await api.post('/api/v1/sync/push', { ops: batch });
  } catch (err) {
    if (err.status === 409 && err.body && err.body.type === 'urn:hearthside:problem:client-seq-gap') {
      await renumberFrom(Number(err.body.expected));
      return true;
    }
    throw err;
  }
  await exclusive(() => applyPushResults(res));
  return true;
}

// A held op stays on the server until the family is in reach again or a supervisor decides.
// Sending the same ops again is answered as duplicates that say what became of each.
async function askAboutHeld() {
  const held = [...outbox.values()].filter((e) => e.status === 'held').sort((a, b) => a.id - b.id).slice(0, PUSH_BATCH);
  if (!held.length) return;
  const res = await api.post('/api/v1/sync/push', { ops: held.map((e) => e.op) });
  await exclusive(() => applyPushResults(res));
}

/** The server wants `expected` next and our oldest unconfirmed op is later: renumber. */
async function renumberFrom(expected) {
  await exclusive(async () => {
    const pend = unconfirmed();
    if (!pend.length || !(expected >= 1)) return;
    if (pend[0].id <= expected) return; // ours start at or before it: a resend fixes it
    const changed = []; const dropped = [];
    let seq = expected;
    for (const e of pend) {
      dropped.push(e.id);
      changed.push({ ...e, id: seq, op: { ...e.op, client_seq: seq } });
      seq += 1;
    }
    // New numbers continue after the renumbered ones.
    meta.client_seq = seq - 1;
    const keep = new Set(changed.map((c) => c.id));
    await commit({ changed, dropped: dropped.filter((id) => !keep.has(id)) });
  });
}

/** A later local edit of the same field, still to be confirmed: it wins on this phone. */
function laterEdit(entry) {
  for (const e of outbox.values()) {
    if (e.id > entry.id && (e.status === 'waiting' || e.status === 'sent') && e.op.type === 'set'
        && e.op.entity_id === entry.op.entity_id && e.op.field === entry.op.field) return true;
  }
  return false;
}

async function applyPushResults(res) {
  const changed = []; const dropped = []; const records = new Map();
  const marks = { ...(meta.marks || {}) };
  for (const r of res.results || []) {
    const e = outbox.get(r.client_seq);
    if (!e || e.op.op_id !== r.op_id) continue;
    const op = e.op;
    // A duplicate repeats the first answer (or what became of a held op since).
    const status = r.status === 'duplicate' ? (r.first_status || 'applied') : r.status;
    if (status === 'applied' || status === 'duplicate') {
      dropped.push(e.id);
      delete marks[op.entity_id || op.conflict_id];
      if (op.type === 'create' || op.type === 'set') {
        const key = `${op.entity}/${op.entity_id}`;
        const rec = (records.get(key) || {}).obj || (await recordOf(op.entity, op.entity_id));
        if (rec) {
          rec.field_versions = rec.field_versions || {};
          if (op.type === 'create') {
            for (const f of Object.keys(op.values || {})) rec.field_versions[f] = Math.max(rec.field_versions[f] || 0, r.field_version || r.version || 1);
          } else {
            rec.field_versions[op.field] = Math.max(rec.field_versions[op.field] || 0, r.field_version || r.version || 0);
            // The server kept another value (a status already further on): show what it holds.
            if (r.value !== undefined && !laterEdit(e)) rec[op.field] = r.value;
          }
          rec.version = Math.max(rec.version || 0, r.version || 0);
          records.set(key, { store: ENTITY_STORE[op.entity], id: rec.id, fid: rec.family_id, obj: rec });
        }
      }
    } else if (status === 'held') {
      if (e.status !== 'held') changed.push({ ...e, status: 'held', reason: r.reason || 'kept by the server, not applied yet' });
    } else if (status === 'conflict') {
      // The field shows the conflict's provisional value (the newest) until a person chooses.
      if (op.type === 'set' && r.value !== undefined && !laterEdit(e)) {
        const key = `${op.entity}/${op.entity_id}`;
        const rec = (records.get(key) || {}).obj || (await recordOf(op.entity, op.entity_id));
        if (rec) { rec[op.field] = r.value; records.set(key, { store: ENTITY_STORE[op.entity], id: rec.id, fid: rec.family_id, obj: rec }); }
      }
      changed.push({ ...e, status: 'conflict', conflict_id: r.conflict_id || null, reason: 'conflicts with another change: a person will choose' });
    } else if (status === 'rejected') {
      changed.push({ ...e, status: 'rejected', reason: r.reason || 'not accepted by the server' });
    }
  }
  meta.marks = marks;
  hlcReceive(res.server_hlc);
  const recs = [...records.values()];
  await commit({ changed, dropped, records: recs });
  if (recs.length) emitChange('*', recs.map((r) => r.id));
}

// -- pull -------------------------------------------------------------------------------------
function sameJSON(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

/** Fields with a local op not yet confirmed: the server's value must not hide the local one. */
function pendingFields(entityId) {
  const f = new Set();
  for (const e of pendingFor(entityId)) {
    if (e.status !== 'waiting' && e.status !== 'sent' && e.status !== 'held') continue;
    if (e.op.type === 'set') f.add(e.op.field);
    if (e.op.type === 'create') for (const k of Object.keys(e.op.values || {})) f.add(k);
  }
  return f;
}

async function applyChanges(changes) {
  if (!changes.length) return;
  // Read every touched record in one transaction, merge in memory, write in one transaction.
  const keys = new Map();
  for (const c of changes) {
    const store = ENTITY_STORE[c.entity];
    if (store) keys.set(`${store}/${c.entity_id}`, { store, id: c.entity_id });
  }
  const stores = [...new Set([...keys.values()].map((k) => k.store))];
  const rows = await idb.transact(stores, 'readonly', (tx) => Promise.all(
    [...keys.values()].map((k) => new Promise((resolve, reject) => {
      const req = tx.objectStore(k.store).get(k.id);
      req.onsuccess = () => resolve([k, req.result]);
      req.onerror = () => reject(req.error);
    })),
  ));
  const current = new Map();
  await Promise.all(rows.map(async ([k, row]) => { current.set(`${k.store}/${k.id}`, row ? await vault.unseal(k.store, row) : null); }));
  const resolving = pendingResolves();
  for (const c of changes) {
    const store = ENTITY_STORE[c.entity];
    if (!store) continue;
    const key = `${store}/${c.entity_id}`;
    let rec = current.get(key);
    if (!rec) rec = { id: c.entity_id, family_id: c.family_id, version: 0, field_versions: {}, deleted: false };
    if (rec.deleted) continue; // a tombstone never comes back
    if (c.op === 'delete') {
      rec.deleted = true;
    } else {
      const mine = pendingFields(c.entity_id);
      const fv = c.field_versions || {};
      if (c.entity === 'conflict') {
        // Our own decision, not yet confirmed, stays shown as made; what the server holds
        // is kept beside it, so a decision it refused puts the conflict back in the list.
        if (resolving.has(c.entity_id)) { mine.add('status'); mine.add('resolution'); }
        const sv = fv.status ?? c.version ?? 0;
        if (c.values && 'status' in c.values && sv >= (rec.confirmed_status_v || 0)) {
          rec.confirmed_status = c.values.status; rec.confirmed_status_v = sv;
        }
      }
      for (const [f, v] of Object.entries(c.values || {})) {
        const incoming = fv[f] ?? c.version ?? 0;
        if (mine.has(f)) continue;
        if (incoming > (rec.field_versions[f] || 0) || !(f in rec)) {
          rec[f] = v;
          rec.field_versions[f] = Math.max(incoming, rec.field_versions[f] || 0);
        }
      }
    }
    rec.version = Math.max(rec.version || 0, c.version || 0);
    rec.family_id = rec.family_id || c.family_id;
    current.set(key, rec);
  }
  const records = [];
  for (const [key, rec] of current) {
    if (!rec) continue;
    const store = key.slice(0, key.indexOf('/'));
    records.push({ store, id: rec.id, fid: rec.family_id || (store === 'families' ? rec.id : null), obj: rec });
  }
  return records;
}

function pendingResolves() {
  return new Set([...outbox.values()]
    .filter((e) => e.op.type === 'resolve' && (e.status === 'waiting' || e.status === 'sent')).map((e) => e.op.conflict_id));
}

/**
 * Open conflicts are records like any other (entity `conflict`, arriving as changes, so a
 * conflict resolved anywhere comes back `resolved` and leaves the list). After a whole
 * pull: a decision of ours the server did not take (no longer waiting, the server still
 * has the conflict open) is undone on the phone, and our ops that ended in a conflict stay
 * listed only while that conflict is open.
 */
async function settleConflictEntries() {
  const held = await vault.all('conflicts');
  const resolving = pendingResolves();
  const records = [];
  for (const c of held) {
    if (c.status === 'resolved' && c.confirmed_status === 'open' && !resolving.has(c.id)) {
      records.push({ store: 'conflicts', id: c.id, fid: c.family_id || null, obj: { ...c, status: 'open' } });
      // The field showed our decision: it shows the provisional value again, as the server does.
      const store = ENTITY_STORE[c.entity];
      const target = store && !pendingFields(c.entity_id).has(c.field) ? await vault.get(store, c.entity_id) : null;
      if (target && !target.deleted && 'provisional' in c) {
        records.push({ store, id: target.id, fid: target.family_id || null, obj: { ...target, [c.field]: c.provisional } });
      }
    }
  }
  const open = new Set(held.filter((c) => !c.deleted && (c.status === 'open' || records.some((r) => r.id === c.id))).map((c) => c.id));
  const changed = records.map((r) => r.id);
  const dropped = [...outbox.values()].filter((e) => e.status === 'conflict' && e.conflict_id && !open.has(e.conflict_id)).map((e) => e.id);
  if (records.length || dropped.length) await commit({ records, dropped });
  if (records.length) emitChange('*', changed);
}

/**
 * The server's change log is not the one our cursor came from (it was restored from a
 * backup): forget everything it confirmed and pull from 0. The outbox stays, and so do
 * the records it has edits for (their versions forgotten, so the server's values apply to
 * every field we have not changed): nothing waiting to be sent is lost.
 */
async function resync() {
  await exclusive(async () => {
    const keep = new Set();
    for (const e of outbox.values()) {
      if (e.status === 'waiting' || e.status === 'sent') keep.add(e.op.entity_id || e.op.conflict_id);
    }
    const records = []; const removes = [];
    for (const store of new Set(Object.values(ENTITY_STORE))) {
      for (const rec of await vault.all(store)) {
        const fid = rec.family_id || (store === 'families' ? rec.id : null);
        if (keep.has(rec.id)) records.push({ store, id: rec.id, fid, obj: { ...rec, version: 0, field_versions: {} } });
        else removes.push({ store, id: rec.id });
      }
    }
    meta.cursor = 0;
    meta.epoch = null;
    await commit({ records, removes });
  });
  emitChange('*', null);
}

function fetchPage(cursor, holding, epoch) {
  const known = cursor > 0 && epoch ? `&epoch=${encodeURIComponent(epoch)}` : '';
  return api.get(`/api/v1/sync/pull?cursor=${cursor}&limit=${PULL_LIMIT}&holding_seq=${holding}${known}`);
}

async function pullAll() {
  let pages = 0;
  let resyncs = 0;
  // The next page, asked for while this one is applied: the network and the server work
  // while the phone decrypts, merges and stores. Used only if nothing moved meanwhile
  // (holding_seq decides a revoked phone's wipe, so it must be current).
  let ahead = null;
  for (;;) {
    const holding = meta.client_seq;
    const epoch = meta.epoch || null;
    const usable = ahead && ahead.cursor === meta.cursor && ahead.holding === holding && ahead.epoch === epoch;
    const page = await (usable ? ahead.promise : fetchPage(meta.cursor, holding, epoch));
    ahead = null;
    const instructions = page.instructions || [];
    if (instructions.some((i) => i.type === 'wipe')) {
      // The server has confirmed it holds every op we assigned (holding_seq): destroy all.
      await session.wipe();
      unload();
      return 'wiped';
    }
    if (instructions.some((i) => i.type === 'upload')) return 'upload';
    if (instructions.some((i) => i.type === 'resync')) {
      // A second one in the same sync would mean the server keeps changing logs: stop
      // and report it rather than loop.
      if (resyncs++ > 0) throw new api.ApiError('The server asked this phone to start its sync again twice.', { status: 409 });
      await resync();
      continue;
    }
    if (page.has_more && page.next_cursor != null) {
      const next = page.epoch || epoch;
      ahead = { cursor: page.next_cursor, holding, epoch: next, promise: fetchPage(page.next_cursor, holding, next) };
      ahead.promise.catch(() => {}); // a failure surfaces when (if) the page is used
    }
    for (const ins of instructions) if (ins.type === 'purge' && ins.family_id) await vault.purgeFamily(ins.family_id);
    await exclusive(async () => {
      // `page.conflicts` (a whole list, sent only to apps older than this one) is not
      // used: conflicts arrive as changes.
      const records = (await applyChanges(page.changes || [])) || [];
      hlcReceive(page.server_hlc);
      meta.cursor = page.next_cursor ?? meta.cursor;
      if (page.epoch) meta.epoch = page.epoch;
      meta.source = 'sync';
      await commit({ records });
    });
    if ((page.changes || []).length) emitChange('*', null);
    pages += 1;
    if (!page.has_more || pages > 10000) {
      await exclusive(settleConflictEntries);
      return 'ok';
    }
  }
}

async function refreshContent() {
  try {
    const content = await api.get('/api/v1/content');
    if (content && vault.isOpen()) await vault.put('content', 'current', content);
  } catch (_) { /* content is optional until its endpoint exists; the cached copy stays */ }
}

// -- the loop -------------------------------------------------------------------------------
function setState(s) { state = s; emitStatus(); }

async function runOnce() {
  requireLoaded();
  if (!navigator.onLine) {
    fail('No connection. Your work is saved on this phone and will be sent when you are back online.', 'offline');
    setState('offline');
    return { ok: false, error: status().last_failure.message };
  }
  setState('syncing');
  try {
    if (!api.hasAccessToken()) {
      const ok = await session.refreshAccess();
      if (!ok) throw new api.ApiError('You need to sign in again to send your work.', { status: 401 });
    }
    for (let i = 0; i < 1000; i++) {
      let pushed = 0;
      while (await pushOnce()) { pushed += 1; if (pushed > 500) break; }
      if (i === 0) await askAboutHeld();
      const r = await pullAll();
      if (r === 'wiped') { setState('idle'); return { ok: true, wiped: true }; }
      if (r !== 'upload') break;
      // The server wants what we hold before it lets this device go: push again.
      await exclusive(async () => {
        const changed = [...outbox.values()].filter((e) => e.status === 'waiting' || e.status === 'sent').map((e) => ({ ...e, status: 'waiting' }));
        if (changed.length) await commit({ changed });
      });
      if (!unconfirmed().length) break;
    }
    await refreshContent();
    const stillPending = unconfirmed().length;
    await exclusive(async () => {
      meta.last_success_at = new Date().toISOString();
      await commit({});
    });
    failuresInARow = 0;
    nextRetryAt = null;
    setState(stillPending ? 'error' : 'idle');
    if (stillPending) {
      fail(`${stillPending} ${stillPending === 1 ? 'change is' : 'changes are'} still waiting to be sent.`, 'pending');
      scheduleRetry();
    }
    return { ok: stillPending === 0, error: stillPending ? status().last_failure.message : null };
  } catch (err) {
    if (err instanceof vault.LockedError || !vault.isOpen()) { state = 'idle'; return { ok: false, error: 'The app is locked.' }; }
    console.warn('sync failed', err && err.name);
    const offline = err && err.status === 0;
    const message = offline
      ? 'No connection to the server. Your work is saved on this phone and will be sent later.'
      : (err && err.status === 401) ? 'Your sign-in has ended. Sign in again to send your work.'
        : `Sync did not finish: ${err && err.message ? err.message : 'unknown problem'}`;
    try {
      await exclusive(async () => { fail(message, offline ? 'offline' : (err && err.status) || 'error'); await commit({}); });
    } catch (_) { /* locked meanwhile */ }
    failuresInARow += 1;
    setState(offline ? 'offline' : 'error');
    scheduleRetry();
    return { ok: false, error: message };
  }
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  if (!started) return;
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failuresInARow - 1));
  const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
  nextRetryAt = new Date(Date.now() + jittered).toISOString();
  retryTimer = setTimeout(() => { now(); }, jittered);
}

/** Sync now (a visit was signed, the person asked, the network came back). Never throws. */
export function now() {
  if (!meta || !vault.isOpen()) return Promise.resolve({ ok: false, error: 'The app is locked.' });
  if (running) { again = true; return running; }
  running = (async () => {
    let r;
    do { again = false; r = await runOnce(); } while (again && r.ok && meta);
    return r;
  })().finally(() => { running = null; });
  return running.then((r) => ({ ...r, ...status() }));
}

function onOnline() { failuresInARow = 0; now(); }
function onOffline() { if (started) setState('offline'); }

/** Start syncing (after unlock): now, on reconnect, and every few minutes. */
export async function start() {
  await load();
  if (started) return;
  started = true;
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  clearInterval(periodTimer);
  periodTimer = setInterval(() => { if (!retryTimer || !nextRetryAt) now(); }, PERIOD_MS);
  now();
}

/** Stop (on lock): timers cleared, state forgotten from memory. */
export function stop() {
  started = false;
  clearInterval(periodTimer); clearTimeout(retryTimer);
  periodTimer = retryTimer = null;
  window.removeEventListener('online', onOnline);
  window.removeEventListener('offline', onOffline);
  unload();
  // And again after any write already in the mutex has finished, so none outlives the lock.
  exclusive(() => { if (!started) unload(); });
  state = 'idle';
  emitStatus();
}

export function isLoaded() { return meta !== null; }
export function metaSnapshot() { return meta ? structuredClone(meta) : null; }
