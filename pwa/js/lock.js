// Locks: the button, the page being hidden (after a short grace), and inactivity (warned
// first). Before the key is dropped every onBeforeLock hook runs, so nothing typed is lost.
import * as session from './session.js';

const DEFAULTS = { graceMs: 5000, idleMs: 5 * 60 * 1000, warnMs: 60 * 1000 };
const hooks = new Set();
const warnListeners = new Set();
let config = { ...DEFAULTS };
let idleTimer = null;
let warnTimer = null;
let graceTimer = null;
let started = false;
let locking = null;

export function settings() {
  let over = {};
  try { over = JSON.parse(localStorage.getItem('hearthside.lock') || '{}') || {}; } catch (_) { over = {}; }
  const c = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) if (Number.isFinite(over[k]) && over[k] >= 0) c[k] = over[k];
  c.warnMs = Math.min(c.warnMs, c.idleMs);
  return c;
}

/** fn() (may be async) runs before a lock; keep it quick (2 s at most is waited for). */
export function onBeforeLock(fn) { hooks.add(fn); return () => hooks.delete(fn); }

/** fn(true) when the inactivity warning shows, fn(false) when it goes. */
export function onWarning(fn) { warnListeners.add(fn); return () => warnListeners.delete(fn); }

function warn(on) { for (const fn of warnListeners) { try { fn(on); } catch (e) { console.error(e); } } }

function clearTimers() {
  clearTimeout(idleTimer); clearTimeout(warnTimer);
  idleTimer = warnTimer = null;
}

function armIdle() {
  clearTimers();
  if (session.state() !== 'unlocked') return;
  warnTimer = setTimeout(() => warn(true), Math.max(0, config.idleMs - config.warnMs));
  idleTimer = setTimeout(() => lockNow('inactivity'), config.idleMs);
}

let lastActivity = 0;
function activity() {
  if (session.state() !== 'unlocked') return;
  const now = Date.now();
  if (warnTimer === null || now - lastActivity > 250) { lastActivity = now; warn(false); armIdle(); }
}

export async function lockNow(reason = 'button') {
  if (session.state() === 'change-secret') { session.lock(); return; }
  if (session.state() !== 'unlocked') return;
  if (locking) return locking;
  locking = (async () => {
    clearTimers();
    clearTimeout(graceTimer);
    const waits = [...hooks].map((fn) => Promise.race([
      Promise.resolve().then(fn).catch((e) => console.error('before-lock hook failed', e)),
      new Promise((r) => setTimeout(r, 2000)),
    ]));
    await Promise.all(waits);
    warn(false);
    document.documentElement.dataset.lockReason = reason;
    session.lock();
  })().finally(() => { locking = null; });
  return locking;
}

function onVisibility() {
  if (document.visibilityState === 'hidden') {
    clearTimeout(graceTimer);
    if (session.state() !== 'unlocked' && session.state() !== 'change-secret') return;
    if (config.graceMs === 0) lockNow('hidden');
    else graceTimer = setTimeout(() => lockNow('hidden'), config.graceMs);
  } else {
    clearTimeout(graceTimer);
    activity();
  }
}

export function start() {
  config = settings();
  if (started) return;
  started = true;
  for (const ev of ['pointerdown', 'keydown', 'input', 'touchstart', 'wheel']) {
    document.addEventListener(ev, activity, { capture: true, passive: true });
  }
  document.addEventListener('visibilitychange', onVisibility);
  // Frozen or put in the back-forward cache: treat as hidden, at once.
  document.addEventListener('freeze', () => lockNow('hidden'));
  window.addEventListener('pagehide', () => lockNow('hidden'));
  session.on('change', (s) => {
    if (s === 'unlocked') { config = settings(); armIdle(); } else { clearTimers(); warn(false); }
  });
  if (session.state() === 'unlocked') armIdle();
}

/** Keep unlocked (the warning's "stay unlocked" button). */
export function stayUnlocked() { activity(); }
