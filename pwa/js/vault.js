// The encrypted record store. Each row in IndexedDB is {id, fid?, ts, iv, ct}: only the
// opaque id, an opaque family id (for purges), a timestamp and ciphertext are in clear.
import * as idb from './idb.js';
import { encrypt, decrypt } from './crypto.js';

let key = null;

export class LockedError extends Error {
  constructor() { super('The app is locked.'); this.name = 'LockedError'; }
}

export function setKey(k) { key = k; }
export function dropKey() { key = null; }
export function isOpen() { return key !== null; }

function need() {
  if (!key) throw new LockedError();
  return key;
}

/** Encrypt a value into the row to store (use with idb.transact for multi-store writes). */
export async function seal(store, id, obj, fid = null) {
  const box = await encrypt(need(), obj, `${store}/${id}`);
  const row = { id, ts: Date.now(), iv: box.iv, ct: box.ct };
  if (fid) row.fid = fid;
  return row;
}

export async function unseal(store, row) {
  if (!row) return null;
  return decrypt(need(), row, `${store}/${row.id}`);
}

export async function put(store, id, obj, { fid = null } = {}) {
  const row = await seal(store, id, obj, fid);
  await idb.put(store, row);
}

export async function get(store, id) {
  need();
  return unseal(store, await idb.get(store, id));
}

export async function all(store) {
  need();
  const rows = await idb.getAll(store);
  return Promise.all(rows.map((r) => unseal(store, r)));
}

export async function byFamily(store, fid) {
  need();
  const rows = await idb.getAllByIndex(store, 'fid', fid);
  return Promise.all(rows.map((r) => unseal(store, r)));
}

export async function remove(store, id) { await idb.del(store, id); }
export { remove as delete };

export async function clear(store) { await idb.clear(store); }

/** Remove everything held about one family (a purge instruction); needs no key. */
export async function purgeFamily(fid) {
  const stores = idb.VAULT_STORES.filter((s) => !['outbox', 'meta', 'content'].includes(s));
  await idb.transact(stores, 'readwrite', (tx) => {
    for (const s of stores) {
      const index = tx.objectStore(s).index('fid');
      const req = index.openKeyCursor(IDBKeyRange.only(fid));
      req.onsuccess = () => {
        const c = req.result;
        if (c) { tx.objectStore(s).delete(c.primaryKey); c.continue(); }
      };
    }
  });
}
