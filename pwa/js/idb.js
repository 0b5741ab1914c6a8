// The one promise-based IndexedDB module. Everything else goes through here.

import { ENTITY_STORE } from './generated/model.js';

export const DB_NAME = 'hearthside';

// Encrypted record stores (vault): one per synced entity, as the model names them, and the
// phone's own (drafts, the outbox, sync state, content). Plus one clear store for wrapped keys.
export const VAULT_STORES = [...new Set(Object.values(ENTITY_STORE)), 'drafts', 'outbox', 'meta', 'content'];
export const KEY_STORE = 'keys';
const ALL_STORES = [...VAULT_STORES, KEY_STORE];

let dbPromise = null;

export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Opened at the version it has; when the model has gained an entity (a store this database
// lacks), opened again one version up so the upgrade creates it. No version number to keep
// in step with the model by hand.
function openAt(version) {
  return new Promise((resolve, reject) => {
    const req = version ? indexedDB.open(DB_NAME, version) : indexedDB.open(DB_NAME);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const name of VAULT_STORES) {
        if (!db.objectStoreNames.contains(name)) {
          const store = db.createObjectStore(name, { keyPath: 'id' });
          // Opaque family id in clear so a purge can find a family's records without the key.
          store.createIndex('fid', 'fid', { unique: false });
        }
      }
      if (!db.objectStoreNames.contains(KEY_STORE)) db.createObjectStore(KEY_STORE, { keyPath: 'id' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('The app is open in another tab; close it and try again.'));
  });
}

export function open() {
  if (!dbPromise) {
    dbPromise = (async () => {
      let db = await openAt(null);
      if (ALL_STORES.some((s) => !db.objectStoreNames.contains(s))) {
        const next = db.version + 1;
        db.close();
        db = await openAt(next);
      }
      // Another tab upgrading: let it, and reopen next time.
      db.onversionchange = () => { db.close(); dbPromise = null; };
      return db;
    })();
    dbPromise.catch(() => { dbPromise = null; });
  }
  return dbPromise;
}

/**
 * Run fn(tx) in one transaction and resolve with its result when the transaction commits.
 * fn must only issue IndexedDB requests (no other awaits) or the transaction auto-commits.
 */
export async function transact(stores, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    let result;
    const tx = db.transaction(stores, mode, { durability: 'strict' });
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('The save was interrupted.'));
    try {
      const r = fn(tx);
      if (r && typeof r.then === 'function') r.then((v) => { result = v; }, (e) => { try { tx.abort(); } catch (_) { /* done */ } reject(e); });
      else result = r;
    } catch (e) {
      try { tx.abort(); } catch (_) { /* already finished */ }
      reject(e);
    }
  });
}

export async function get(store, key) {
  return transact([store], 'readonly', (tx) => request(tx.objectStore(store).get(key)));
}

export async function getAll(store, query) {
  return transact([store], 'readonly', (tx) => request(tx.objectStore(store).getAll(query)));
}

export async function getAllByIndex(store, index, value) {
  return transact([store], 'readonly', (tx) => request(tx.objectStore(store).index(index).getAll(value)));
}

export async function put(store, value) {
  return transact([store], 'readwrite', (tx) => { tx.objectStore(store).put(value); });
}

export async function del(store, key) {
  return transact([store], 'readwrite', (tx) => { tx.objectStore(store).delete(key); });
}

export async function clear(store) {
  return transact([store], 'readwrite', (tx) => { tx.objectStore(store).clear(); });
}

/** Delete every record (all stores, keys included): a wipe. */
export async function wipeAll() {
  const all = [...VAULT_STORES, KEY_STORE];
  return transact(all, 'readwrite', (tx) => { for (const s of all) tx.objectStore(s).clear(); });
}
