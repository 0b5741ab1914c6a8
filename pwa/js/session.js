// The session state machine: signed-out → enrol → unlocked ⇄ locked; ten wrong PINs →
// recover (online sign-in unwraps the escrow copy, so nothing unsynced is lost).
import * as idb from './idb.js';
import * as vault from './vault.js';
import * as api from './api.js';
import {
  deriveWrappingKey, generateDataKey, importEscrowKey, randomBytes, unwrap, wrap, PBKDF2_ITERATIONS,
} from './crypto.js';

export const MAX_FAILURES = 10;
const KEY_ID = 'device';
const listeners = new Set();
let state = 'signed-out';
let pending = null; // {login, dataKey|null} between online sign-in and choosing a PIN
let me = null;
let sessionEnded = false;

export class SessionError extends Error {
  constructor(message, extra = {}) { super(message); this.name = 'SessionError'; Object.assign(this, extra); }
}

function set(next) {
  state = next;
  for (const fn of listeners) { try { fn(state); } catch (e) { console.error(e); } }
}

export function on(_event, fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function subscribe(fn) { return on('change', fn); }
export function current() { return state; }
export { current as state };
export function user() { return me; }
export function ended() { return sessionEnded; }

async function keysRecord() { return idb.get(idb.KEY_STORE, KEY_ID); }

/** Work out the starting state from what this browser holds. */
export async function init() {
  const k = await keysRecord();
  if (!k) set('signed-out');
  else if (!k.pin_wrapped) set('recover');
  else set('locked');
  return state;
}

export async function failures() {
  const k = await keysRecord();
  return k ? k.failures || 0 : 0;
}

function uuidv4() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Online sign-in. Enrols a new device, or recovers the data key through escrow. */
export async function signIn(username, password) {
  const k = await keysRecord();
  const deviceId = (k && k.device_id) || (pending && pending.deviceId) || uuidv4();
  const login = await api.post('/api/v1/auth/login', {
    username: username.trim(), password, device_id: deviceId, device_name: 'Phone',
  }, { retry: false });
  if (login.must_change_password) {
    // An admin reset the password: nothing opens until a new one is chosen. The one-time
    // password is kept only until then (it is the "current password" of that change).
    if (k && k.user_id !== login.user.id) throw new SessionError('This phone is enrolled to someone else.');
    pending = { login, dataKey: null, deviceId, temporary: password, resume: state === 'unlocked' ? 'unlocked' : 'enrol', keys: k };
    set('change-password');
    return state;
  }
  return afterSignIn(login, k, deviceId);
}

/** Choose a new password after an admin's reset, then go on (choose a PIN, or carry on). */
export async function changePassword(newPassword) {
  if (state !== 'change-password' || !pending || !pending.temporary) throw new SessionError('Sign in first.');
  api.setAccessToken(pending.login.access_token);
  try {
    await api.post('/api/v1/me/password', { current_password: pending.temporary, new_password: newPassword }, { retry: false });
  } catch (e) {
    const reasons = (e.errors || []).map((x) => x.message).filter(Boolean);
    throw new SessionError(reasons.length ? reasons.join(' ') : e.message, { field: 'new-password' });
  } finally {
    if (!me) api.setAccessToken(null);
  }
  const { login, deviceId, keys, resume } = pending;
  pending = null;
  login.must_change_password = false;
  if (resume === 'unlocked') { state = 'unlocked'; await saveAuth(login); set('unlocked'); return state; }
  return afterSignIn(login, keys, deviceId);
}

async function afterSignIn(login, k, deviceId) {
  if (state === 'unlocked') {
    // Re-authentication while unlocked (the refresh token had expired): keep going.
    if (k && k.user_id !== login.user.id) throw new SessionError('This phone is enrolled to someone else.');
    await saveAuth(login);
    return state;
  }
  let dataKey = null;
  if (k) {
    if (k.user_id !== login.user.id) throw new SessionError('This phone is enrolled to someone else.');
    // Extractable only until it has been re-wrapped under the new PIN.
    const escrow = await importEscrowKey(login.escrow_key);
    dataKey = await crypto.subtle.unwrapKey('raw', k.escrow_wrapped, escrow, 'AES-KW',
      { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  }
  pending = { login, dataKey, deviceId };
  set('enrol');
  return state;
}

export function checkSecret(secret) {
  if (/^\d+$/.test(secret)) {
    if (secret.length < 6) return 'A PIN must be at least 6 digits.';
    if (/^(\d)\1+$/.test(secret) || '01234567890123456789'.includes(secret) || '98765432109876543210'.includes(secret)) {
      return 'Choose a PIN that is not a run or a repeated digit.';
    }
    return null;
  }
  if (secret.length < 10) return 'A passphrase must be at least 10 characters (or use a PIN of 6 or more digits).';
  return null;
}

/** Choose a PIN or passphrase: wraps the data key twice (PIN and escrow), then unlocks. */
export async function setPin(secret) {
  if (state !== 'enrol' || !pending) throw new SessionError('Sign in first.');
  const problem = checkSecret(secret);
  if (problem) throw new SessionError(problem, { field: 'pin' });
  const { login, deviceId } = pending;
  let dataKey = pending.dataKey || await generateDataKey();
  const salt = randomBytes(16);
  const wrapping = await deriveWrappingKey(secret, salt);
  const record = {
    id: KEY_ID,
    device_id: deviceId,
    user_id: login.user.id,
    kind: /^\d+$/.test(secret) ? 'pin' : 'passphrase',
    salt,
    iterations: PBKDF2_ITERATIONS,
    pin_wrapped: await wrap(dataKey, wrapping),
    escrow_wrapped: await wrap(dataKey, await importEscrowKey(login.escrow_key)),
    failures: 0,
    enrolled_at: Date.now(),
  };
  dataKey = null;
  pending.dataKey = null;
  await idb.put(idb.KEY_STORE, record);
  vault.setKey(await unwrap(record.pin_wrapped, wrapping));
  await saveAuth(login);
  pending = null;
  set('unlocked');
  return state;
}

async function saveAuth(login) {
  me = {
    user_id: login.user.id, username: login.user.username, display_name: login.user.display_name,
    role: login.user.role, agency_id: login.user.agency_id, team_id: login.user.team_id, device_id: login.device.id,
  };
  await vault.put('meta', 'auth', {
    refresh_token: login.refresh_token, refresh_expires_at: login.refresh_expires_at, me,
  });
  api.setAccessToken(login.access_token);
  sessionEnded = false;
}

/** Unlock offline with the PIN. Ten wrong in a row destroy the PIN-wrapped key. */
export async function unlock(secret) {
  const k = await keysRecord();
  if (!k) { set('signed-out'); throw new SessionError('This phone is not set up; sign in.'); }
  if (!k.pin_wrapped) { set('recover'); throw new SessionError('Too many wrong PINs: sign in online to recover.'); }
  // Count the attempt before trying it, so closing the page mid-try does not reset the count.
  k.failures = (k.failures || 0) + 1;
  await idb.put(idb.KEY_STORE, k);
  let key;
  try {
    key = await unwrap(k.pin_wrapped, await deriveWrappingKey(secret, k.salt, k.iterations));
  } catch (_) {
    if (k.failures >= MAX_FAILURES) {
      k.pin_wrapped = null;
      k.salt = null;
      k.destroyed_at = Date.now();
      await idb.put(idb.KEY_STORE, k);
      set('recover');
      throw new SessionError('Too many wrong PINs. The key on this phone has been destroyed: sign in online to recover your work.', { destroyed: true });
    }
    const remaining = MAX_FAILURES - k.failures;
    throw new SessionError(`That ${k.kind === 'pin' ? 'PIN' : 'passphrase'} is not right. ${remaining} ${remaining === 1 ? 'try' : 'tries'} left.`, { remaining });
  }
  k.failures = 0;
  await idb.put(idb.KEY_STORE, k);
  vault.setKey(key);
  const auth = await vault.get('meta', 'auth');
  me = auth ? auth.me : null;
  set('unlocked');
  return state;
}

export function lock() {
  vault.dropKey();
  api.setAccessToken(null);
  me = null;
  if (state === 'unlocked') set('locked');
}

let refreshing = null;
/** A new access token from the refresh token kept in the vault; true when it worked. */
export function refreshAccess() {
  if (!refreshing) {
    refreshing = (async () => {
      if (!vault.isOpen()) return false;
      const auth = await vault.get('meta', 'auth');
      if (!auth || !auth.refresh_token) { sessionEnded = true; return false; }
      try {
        const login = await api.post('/api/v1/auth/refresh', { refresh_token: auth.refresh_token }, { retry: false });
        if (!vault.isOpen()) return false;
        await saveAuth(login);
        return true;
      } catch (e) {
        if (e.status === 401 || e.status === 403) sessionEnded = true;
        throw e;
      }
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

api.onUnauthorized(async () => {
  try { return await refreshAccess(); } catch (_) { return false; }
});

/** Remove every key and record from this browser (a wipe instruction or a revoked device). */
export async function wipe() {
  vault.dropKey();
  api.setAccessToken(null);
  me = null;
  pending = null;
  await idb.wipeAll();
  set('signed-out');
}
