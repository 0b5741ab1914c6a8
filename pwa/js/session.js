// The session state machine: signed-out → enrol → unlocked ⇄ locked; ten wrong tries →
// recover (online sign-in unwraps the escrow copy, so nothing unsynced is lost); an unlock
// with a secret the agency's rule no longer accepts → change-secret → unlocked.
//
// The stored unlock record says nothing about which kind of secret wraps the key (no kind,
// no length; the same iterations for a PIN and a passphrase), so a copy of it does not tell
// an attacker to try only PINs. Records from older versions (`kind`, `pin_wrapped`, fewer
// iterations) are rewritten at the first unlock that opens them.
import * as idb from './idb.js';
import * as vault from './vault.js';
import * as api from './api.js';
import * as secretRule from './secret.js';
import {
  deriveWrappingKey, generateDataKey, importEscrowKey, randomBytes, unwrap, unwrapForRewrap, wrap, PBKDF2_ITERATIONS,
} from './crypto.js';

export const MAX_FAILURES = 10;
const KEY_ID = 'device';
const POLICY_PATH = '/api/v1/unlock-policy';
const POLICY_META = 'unlock-policy';
const listeners = new Set();
let state = 'signed-out';
// Between online sign-in (or an unlock the rule refuses) and choosing the secret:
// {policy, login?, deviceId?, record?, dataKey|null}.
let pending = null;
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
function wrappedOf(k) { return k.wrapped || k.pin_wrapped || null; }
function isCurrent(k) { return !!k.wrapped && !('kind' in k) && !('pin_wrapped' in k) && k.iterations >= PBKDF2_ITERATIONS; }

/** The record's secret-dependent part for a data key (extractable) under a secret. */
async function wrapUnder(secret, dataKey) {
  const salt = randomBytes(16);
  const wrapping = await deriveWrappingKey(secret, salt, PBKDF2_ITERATIONS);
  return { wrapping, fields: { salt, iterations: PBKDF2_ITERATIONS, wrapped: await wrap(dataKey, wrapping) } };
}

function rewritten(k, fields) {
  const { kind: _kind, pin_wrapped: _old, ...rest } = k;
  return { ...rest, ...fields, failures: 0 };
}

/** Work out the starting state from what this browser holds. */
export async function init() {
  const k = await keysRecord();
  if (!k) set('signed-out');
  else if (!wrappedOf(k)) set('recover');
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
  // The agency's rule for the secret about to be chosen; no rule, no choosing.
  let policy;
  try {
    policy = await api.get(POLICY_PATH, { retry: false, headers: { Authorization: `Bearer ${login.access_token}` } });
  } catch (_) {
    throw new SessionError("Hearthside could not get your agency's rule for unlocking this phone. Try again.");
  }
  pending = { login, dataKey, deviceId, policy };
  set('enrol');
  return state;
}

/** The agency's rule for the secret being chosen (enrol, change-secret), else null. */
export function policy() { return pending ? pending.policy : null; }

export function checkSecret(secret) {
  if (!pending) return 'Sign in first.';
  return secretRule.problem(secret, pending.policy);
}

/** Choose a PIN or passphrase: wraps the data key under it (and, when enrolling, under the
 * escrow key), then unlocks. Changing it keeps the data key and its escrow copy. */
export async function setPin(secret) {
  if ((state !== 'enrol' && state !== 'change-secret') || !pending) throw new SessionError('Sign in first.');
  const problem = checkSecret(secret);
  if (problem) throw new SessionError(problem, { field: 'pin' });
  const changing = state === 'change-secret';
  let dataKey = pending.dataKey || await generateDataKey();
  const { wrapping, fields } = await wrapUnder(secret, dataKey);
  const record = changing ? rewritten(pending.record, fields) : {
    id: KEY_ID,
    device_id: pending.deviceId,
    user_id: pending.login.user.id,
    ...fields,
    escrow_wrapped: await wrap(dataKey, await importEscrowKey(pending.login.escrow_key)),
    failures: 0,
    enrolled_at: Date.now(),
  };
  dataKey = null;
  pending.dataKey = null;
  await idb.put(idb.KEY_STORE, record);
  vault.setKey(await unwrap(record.wrapped, wrapping));
  if (changing) await openAuth();
  else await saveAuth(pending.login);
  await vault.put('meta', POLICY_META, pending.policy);
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

async function openAuth() {
  const auth = await vault.get('meta', 'auth');
  me = auth ? auth.me : null;
}

/** Fetch the agency's rule and keep it in the vault for the next unlock; null offline. */
export async function refreshPolicy() {
  try {
    const p = await api.get(POLICY_PATH);
    if (vault.isOpen()) await vault.put('meta', POLICY_META, p);
    return p;
  } catch (_) {
    return null; // the rule kept from the last time stays in force
  }
}

/** Unlock offline with the PIN or passphrase. Ten wrong in a row destroy the wrapped key. */
export async function unlock(secret) {
  const k = await keysRecord();
  if (!k) { set('signed-out'); throw new SessionError('This phone is not set up; sign in.'); }
  if (!wrappedOf(k)) { set('recover'); throw new SessionError('Too many wrong tries: sign in online to recover.'); }
  // Count the attempt before trying it, so closing the page mid-try does not reset the count.
  k.failures = (k.failures || 0) + 1;
  await idb.put(idb.KEY_STORE, k);
  let key;
  let wrapping;
  try {
    wrapping = await deriveWrappingKey(secret, k.salt, k.iterations);
    key = await unwrap(wrappedOf(k), wrapping);
  } catch (_) {
    if (k.failures >= MAX_FAILURES) {
      delete k.pin_wrapped;
      delete k.kind;
      k.wrapped = null;
      k.salt = null;
      k.destroyed_at = Date.now();
      await idb.put(idb.KEY_STORE, k);
      set('recover');
      throw new SessionError('Too many wrong tries. The key on this phone has been destroyed: sign in online to recover your work.', { destroyed: true });
    }
    const remaining = MAX_FAILURES - k.failures;
    throw new SessionError(`That is not right. ${remaining} ${remaining === 1 ? 'try' : 'tries'} left.`, { remaining });
  }
  k.failures = 0;
  vault.setKey(key);
  const rule = await vault.get('meta', POLICY_META);
  if (rule && secretRule.problem(secret, rule)) {
    // The agency asks for more than this secret: the same data key, under a new one.
    pending = { policy: rule, record: k, dataKey: await unwrapForRewrap(wrappedOf(k), wrapping) };
    vault.dropKey();
    await idb.put(idb.KEY_STORE, k);
    set('change-secret');
    return state;
  }
  // An old phone's record (the kind in clear, fewer iterations): wrapped again, once.
  const next = isCurrent(k) ? k : rewritten(k, (await wrapUnder(secret, await unwrapForRewrap(wrappedOf(k), wrapping))).fields);
  await idb.put(idb.KEY_STORE, next);
  await openAuth();
  set('unlocked');
  refreshPolicy();
  return state;
}

/** "Forgotten your PIN?": drop the PIN's copy of the key (as ten wrong tries would), so the
 * next online sign-in opens the escrow copy and nothing on the phone is lost. */
export async function forgetSecret() {
  const k = await keysRecord();
  if (!k) { set('signed-out'); return state; }
  delete k.pin_wrapped;
  delete k.kind;
  k.wrapped = null;
  k.salt = null;
  k.destroyed_at = Date.now();
  k.destroyed_by = 'forgotten';
  await idb.put(idb.KEY_STORE, k);
  vault.dropKey();
  set('recover');
  return state;
}

/** Why the PIN's key is gone: 'forgotten' (the person said so) or 'tries' (ten wrong). */
export async function recoverReason() {
  const k = await keysRecord();
  return k && k.destroyed_by === 'forgotten' ? 'forgotten' : 'tries';
}

export function lock() {
  vault.dropKey();
  api.setAccessToken(null);
  me = null;
  // Hidden while a new secret is being chosen: the extractable copy of the key goes too.
  if (state === 'change-secret') { pending = null; set('locked'); }
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
