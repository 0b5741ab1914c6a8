// Bootstrap: service worker, persistent storage, the session state machine
// (signed-out → enrol → unlocked ⇄ locked, recover after too many wrong PINs), the shell.
import * as session from './session.js';
import * as secretRule from './secret.js';
import * as lock from './lock.js';
import * as sync from './sync.js';
import * as router from './router.js';
import * as model from './model.js';
import * as vault from './vault.js';
import * as ui from './ui.js';

const { h } = ui;
const $ = (id) => document.getElementById(id);
const appEl = () => $('app');
let screensLoaded = false;

// -- banners -------------------------------------------------------------------------------
function banner(id, content, { kind = 'info', actions = [] } = {}) {
  let el = $(id);
  const body = h('div', { class: `hs-banner hs-banner--${kind}`, id, role: kind === 'error' ? 'alert' : 'status' },
    h('p', { class: 'hs-banner__text' }, content), actions.length ? h('div', { class: 'hs-banner__actions' }, actions) : null);
  if (el) el.replaceWith(body); else $('banners').append(body);
  el = body;
  return el;
}
function removeBanner(id) { const el = $(id); if (el) el.remove(); }

function isQuotaError(e) {
  return e && (e.name === 'QuotaExceededError' || (e.inner && e.inner.name === 'QuotaExceededError') || /quota/i.test(String(e.message || '')));
}
function showQuota() {
  banner('quota-banner', 'This phone is out of storage space for Hearthside. Your last change may not be saved: sync now, then free some space on the phone.', { kind: 'error' });
}
window.addEventListener('unhandledrejection', (ev) => { if (isQuotaError(ev.reason)) { ev.preventDefault(); showQuota(); } });
window.addEventListener('error', (ev) => { if (isQuotaError(ev.error)) showQuota(); });

// -- service worker and updates --------------------------------------------------------------
let updateRequested = false;
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    const offer = () => { if (reg.waiting && navigator.serviceWorker.controller) offerUpdate(reg); };
    offer();
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      if (w) w.addEventListener('statechange', () => { if (w.state === 'installed') offer(); });
    });
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      // Only when the person chose to reload (never in the middle of a visit).
      if (updateRequested) location.reload();
    });
    // Look for a new version now and then while open.
    setInterval(() => { reg.update().catch(() => {}); }, 30 * 60 * 1000);
  } catch (e) {
    console.warn('service worker not registered', e && e.name);
  }
}

function offerUpdate(reg) {
  const render = () => {
    const busy = ui.visitInProgress();
    banner('update-banner', busy
      ? 'Update available — reload when you finish this visit.'
      : 'Update available — reload when you finish this visit.', {
      actions: busy ? [] : [ui.button('Reload now', () => {
        if (ui.visitInProgress()) return;
        updateRequested = true;
        lock.lockNow('update').finally(() => { if (reg.waiting) reg.waiting.postMessage({ type: 'SKIP_WAITING' }); });
      }, { secondary: true, attrs: { 'data-testid': 'reload-update' } })],
    });
  };
  render();
  ui.onVisitInProgress(render);
}

async function requestPersistence() {
  try {
    if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
      await navigator.storage.persist();
    }
  } catch (_) { /* not offered here: nothing to do */ }
}

// -- the sync pill -------------------------------------------------------------------------------
function pillText(s) {
  const waiting = s.pending ? `${s.pending} waiting` : null;
  if (s.state === 'syncing') return 'Syncing…';
  if (s.state === 'offline') return waiting ? `Offline · ${waiting}` : 'Offline';
  if (s.state === 'error') return waiting ? `Not sent · ${waiting}` : 'Sync failed';
  if (waiting) return waiting;
  if (s.rejected) return `${s.rejected} not accepted`;
  if (s.held) return `${s.held} waiting on the server`;
  if (s.last_success_at) return `Synced ${ui.formatDateTime(s.last_success_at).split(', ').pop()}`;
  return 'Not synced yet';
}
function updatePill(s = sync.status()) {
  const pill = $('sync-pill');
  pill.textContent = pillText(s);
  pill.dataset.state = s.state;
  pill.dataset.pending = String(s.pending);
  pill.setAttribute('aria-label', `Sync status: ${pillText(s)}${s.last_failure && s.state !== 'idle' ? `. ${s.last_failure.message}` : ''}. Open sync`);
  if (s.session_ended) {
    banner('reauth-banner', 'Your sign-in has ended. Your work is safe on this phone; sign in again to send it.', {
      kind: 'warning', actions: [h('a', { class: 'hs-button hs-button--secondary', href: '#/sign-in' }, 'Sign in again')],
    });
  } else removeBanner('reauth-banner');
}

// A screen opened before this phone's first sync finished (Today just after choosing a PIN,
// a visit from a link) was drawn from an empty store: "not on this phone", no visits. Draw
// it again once, when that first sync lands. Only then: a later sync must not redraw a
// screen under someone's fingers, nor this one once they have tapped or typed on it (an admin's
// one-time password for a colleague would vanish).
let awaitingFirstSync = false;
function showAfterFirstSync(s) {
  if (!sync.isLoaded()) { awaitingFirstSync = false; return; }
  if (!s.last_success_at) { awaitingFirstSync = true; return; }
  if (!awaitingFirstSync || s.state === 'syncing') return; // once the whole sync is done
  awaitingFirstSync = false;
  if (session.state() === 'unlocked' && !router.touchedSinceRender()) router.rerender();
}

// -- screens owned by the shell: sign-in, choose PIN, unlock -------------------------------------
function formScreen(title, intro, fields, submitText, onSubmit, extra = null) {
  const errorBox = h('div');
  const submit = h('button', { class: 'hs-button', type: 'submit', 'data-testid': fields.submitId }, submitText);
  const form = h('form', { class: 'hs-form', novalidate: true }, fields.nodes, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    errorBox.replaceChildren();
    ui.clearFieldErrors(form);
    try {
      await onSubmit();
    } catch (e) {
      const fieldId = e.field ? (e.fieldId || fields.firstId) : null;
      const href = fieldId ? `#${fieldId}` : null;
      if (fieldId) ui.showFieldError(document.getElementById(fieldId), e.message || 'That did not work.');
      errorBox.replaceChildren(ui.errorSummary([{ text: e.message || 'That did not work.', href }]));
    } finally {
      submit.disabled = false;
    }
  });
  const screen = h('div', { class: 'screen hs-auth' }, errorBox, ui.heading(title), intro ? h('p', null, intro) : null, form, extra);
  appEl().replaceChildren(screen);
  const first = form.querySelector('input');
  if (first) first.focus();
  return form;
}

function input(id, attrs) { return h('input', { class: 'hs-input', id, name: id, ...attrs }); }

function renderSignIn(reason = null) {
  const user = input('username', { type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', 'data-testid': 'username' });
  const pass = input('password', { type: 'password', autocomplete: 'current-password', 'data-testid': 'password' });
  const intro = reason || 'Sign in once while you have a connection. After that you unlock Hearthside with your PIN, even offline.';
  formScreen(reason ? 'Sign in to recover your work' : 'Sign in', intro, {
    nodes: [ui.field('Username', user), ui.field('Password', pass)], submitId: 'sign-in', firstId: 'username',
  }, 'Sign in', async () => {
    if (!user.value.trim() || !pass.value) throw Object.assign(new Error('Enter your username and password.'), { field: true });
    if (!navigator.onLine) throw new Error('You need a connection to sign in. Once set up, you can unlock offline.');
    await session.signIn(user.value, pass.value);
    pass.value = '';
  });
}

// The rule shown and checked is the agency's, as the server gave it (secret.js).
function renderChoosePin(changing = false) {
  const rule = session.policy();
  const pin = input('new-pin', { type: 'password', autocomplete: 'new-password', inputmode: 'text', 'data-testid': 'new-pin' });
  const confirm = input('confirm-pin', { type: 'password', autocomplete: 'new-password', 'data-testid': 'confirm-pin' });
  const why = changing
    ? 'Your agency now asks for a stronger PIN or passphrase than the one you unlocked with. Choose a new one; your work stays as it is.'
    : 'You will use it to unlock Hearthside on this phone.';
  const intro = `${why} ${secretRule.describe(rule)} After ${session.MAX_FAILURES} wrong tries the phone locks you out until you sign in again.`;
  formScreen(changing ? 'Choose a new PIN or passphrase' : 'Choose a PIN or passphrase', intro, {
    nodes: [ui.field('PIN or passphrase', pin, { hint: secretRule.hint(rule) }), ui.field('Type it again', confirm)],
    submitId: 'set-pin', firstId: 'new-pin',
  }, 'Save and continue', async () => {
    const problem = session.checkSecret(pin.value);
    if (problem) throw Object.assign(new Error(problem), { field: true });
    if (pin.value !== confirm.value) throw Object.assign(new Error('The two entries do not match.'), { field: true, fieldId: 'confirm-pin' });
    await session.setPin(pin.value);
  });
}

function renderForcedChange() {
  const pass = input('new-password', { type: 'password', autocomplete: 'new-password', 'data-testid': 'new-password' });
  const again = input('confirm-password', { type: 'password', autocomplete: 'new-password', 'data-testid': 'confirm-password' });
  formScreen('Choose a new password', 'Your password was reset by an admin. Choose a new one that only you know before you go on.', {
    nodes: [ui.field('New password', pass, { hint: 'At least 12 characters. Three or four unrelated words are strong and easy to remember.' }),
      ui.field('Type it again', again)],
    submitId: 'save-new-password', firstId: 'new-password',
  }, 'Save new password', async () => {
    if (pass.value !== again.value) throw Object.assign(new Error('The two entries do not match.'), { field: true });
    try { await session.changePassword(pass.value); } finally { pass.value = ''; again.value = ''; }
  });
}

async function renderUnlock() {
  // One field for either kind: nothing stored says which kind this phone uses.
  const pin = input('pin', { type: 'password', autocomplete: 'current-password', inputmode: 'text', 'data-testid': 'pin' });
  const left = session.MAX_FAILURES - (await session.failures());
  const note = left < session.MAX_FAILURES ? h('p', { class: 'hs-hint' }, `${left} ${left === 1 ? 'try' : 'tries'} left.`) : null;
  const forgot = h('button', { type: 'button', class: 'hs-button hs-button--secondary', 'data-testid': 'forgot-pin' },
    'Forgotten your PIN or passphrase?');
  forgot.addEventListener('click', () => renderForgotten());
  formScreen('Hearthside is locked', 'Enter your PIN or passphrase to unlock.', {
    nodes: [ui.field('PIN or passphrase', pin), note], submitId: 'unlock', firstId: 'pin',
  }, 'Unlock', async () => {
    mark('unlock-submit');
    try {
      await session.unlock(pin.value);
    } catch (e) {
      pin.value = '';
      if (session.state() === 'recover') return;
      throw Object.assign(e, { field: true });
    } finally {
      pin.value = '';
    }
  }, forgot);
}

// Forgotten the PIN: sign in with the password instead (online), keeping the phone's work
// through the escrow copy of its key; then a new PIN is chosen.
function renderForgotten() {
  const back = h('button', { type: 'button', class: 'hs-button hs-button--secondary', 'data-testid': 'forgot-back' }, 'I remember it');
  back.addEventListener('click', () => renderUnlock());
  formScreen('Forgotten your PIN or passphrase?',
    'Sign in with your username and password and choose a new one. Your work on this phone is kept: it is opened with your sign-in instead. You need a connection to do this.',
    { nodes: [], submitId: 'forgot-confirm', firstId: 'forgot-confirm' }, 'Sign in with my password instead', async () => {
      if (!navigator.onLine) throw new Error('You need a connection to sign in. Until then, unlock with your PIN or passphrase if it comes back to you.');
      await session.forgetSecret();
    }, back);
}

function renderReauth(el) {
  const user = input('username', { type: 'text', autocomplete: 'username', autocapitalize: 'none', 'data-testid': 'username' });
  const pass = input('password', { type: 'password', autocomplete: 'current-password', 'data-testid': 'password' });
  const errorBox = h('div');
  const form = h('form', { class: 'hs-form', novalidate: true }, ui.field('Username', user), ui.field('Password', pass),
    h('button', { class: 'hs-button', type: 'submit', 'data-testid': 'sign-in' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await session.signIn(user.value, pass.value);
      pass.value = '';
      sync.now();
      router.navigate('#/sync');
    } catch (e) { errorBox.replaceChildren(ui.errorSummary([{ text: e.message }])); }
  });
  el.append(errorBox, ui.heading('Sign in again'), h('p', null, 'Your work stays on this phone. Signing in lets it be sent.'), form);
}

// -- locking: blank at once, then show the unlock screen ------------------------------------------
function showShell(unlocked) {
  $('nav').hidden = !unlocked;
  // The team overview is a supervisor's main screen, so it is in their main navigation.
  const user = unlocked ? session.user() : null;
  for (const li of document.querySelectorAll('[data-nav-role="supervisor"]')) {
    li.hidden = !user || !['supervisor', 'admin'].includes(user.role);
  }
  $('lock-button').hidden = !unlocked;
  $('sync-pill').hidden = !unlocked;
  document.body.classList.toggle('is-locked', !unlocked);
}

function inactivityWarning(on) {
  if (!on) { removeBanner('idle-banner'); return; }
  banner('idle-banner', 'Hearthside will lock in 1 minute because nothing has happened. Your work is saved.', {
    kind: 'warning', actions: [ui.button('Stay unlocked', () => lock.stayUnlocked(), { secondary: true, attrs: { 'data-testid': 'stay-unlocked' } })],
  });
}

function fallbackScreens() {
  // The shell's own placeholders until the screens module is there.
  const simple = (title, text) => (params, el) => { el.append(ui.heading(title), h('p', null, text)); };
  router.route('#/today', simple('Today', 'Your visits and follow-ups will show here.'));
  router.route('#/caseload', simple('Caseload', 'Your families will show here.'));
  router.route('#/followups', simple('Follow-ups', 'Your follow-ups will show here.'));
  router.route('#/sync', (params, el) => {
    const s = sync.status();
    el.append(ui.heading('Sync'), h('p', null, pillText(s)),
      s.last_failure ? h('p', null, `Last problem: ${s.last_failure.message}`) : null,
      ui.button('Sync now', () => sync.now()));
  });
}

async function loadScreens() {
  if (screensLoaded) return;
  screensLoaded = true;
  router.route('#/sign-in', (params, el) => renderReauth(el), { title: 'Sign in again' });
  try {
    const mod = await import('./screens/index.js');
    if (Array.isArray(mod.routes)) router.addRoutes(mod.routes);
    if (typeof mod.register === 'function') mod.register({ router, model, sync, ui, session, lock });
  } catch (e) {
    console.warn('screens module not loaded; using placeholders', e && e.message);
    fallbackScreens();
  }
}

function markNav() {
  const hash = location.hash || '#/today';
  for (const a of document.querySelectorAll('.hs-nav__link')) {
    if (hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

let lastState = null;
async function onState(state) {
  if (state === lastState && state !== 'locked') return;
  const was = lastState;
  lastState = state;
  // data-session is set once the state's screen is ready (tests and styles key on it).
  delete document.documentElement.dataset.session;
  if (state === 'unlocked') {
    showShell(true);
    appEl().replaceChildren();
    await loadScreens();
    mark('state:unlocked');
    router.setContext({ model, sync, router, ui, session, lock });
    await sync.load().catch((e) => console.error(e));
    router.resume(appEl());
    sync.start().catch((e) => console.error(e));
    if (lastState === state) document.documentElement.dataset.session = state;
    return;
  }
  if (was === 'unlocked') { router.pause(); sync.stop(); }
  // Blank first: nothing from the unlocked screens stays in the DOM.
  appEl().replaceChildren();
  showShell(false);
  removeBanner('idle-banner');
  removeBanner('reauth-banner');
  if (state === 'signed-out') renderSignIn();
  else if (state === 'enrol' || state === 'change-secret') renderChoosePin(state === 'change-secret');
  else if (state === 'change-password') renderForcedChange();
  else if (state === 'locked') await renderUnlock();
  else if (state === 'recover') {
    renderSignIn(await session.recoverReason() === 'forgotten'
      ? 'Sign in with your username and password, then choose a new PIN or passphrase. Your work on this phone is kept.'
      : 'There were too many wrong tries, so the key on this phone was destroyed. Sign in with your username and password to get your work back, then choose a new PIN.');
  }
  if (lastState === state) document.documentElement.dataset.session = state;
  mark(`state:${state}`);
}

// Marks for bench/pwa_load.py (performance entries hold no data, only names and times).
function mark(name) { try { performance.mark(`hs:${name}`); } catch (_) { /* old browser */ } }

function exposeForTests() {
  const flag = new URLSearchParams(location.search).has('test') || localStorage.getItem('hearthside.test') === '1';
  if (flag) window.__hearthside = { model, sync, session, lock, router, vault, ui };
}

async function main() {
  exposeForTests();
  registerServiceWorker();
  requestPersistence();
  $('lock-button').addEventListener('click', () => lock.lockNow('button'));
  $('sync-pill').addEventListener('click', () => router.navigate('#/sync'));
  window.addEventListener('hashchange', markNav);
  document.addEventListener('hearthside:rendered', markNav);
  sync.subscribe(updatePill);
  sync.subscribe(showAfterFirstSync);
  lock.onWarning(inactivityWarning);
  session.on('change', (s) => { onState(s).catch((e) => { if (isQuotaError(e)) showQuota(); else console.error(e); }); });
  lock.start();
  router.setFallback('#/today');
  try {
    await session.init();
  } catch (e) {
    appEl().replaceChildren(h('div', { class: 'screen' }, ui.heading('Hearthside cannot open its storage'),
      h('p', null, isQuotaError(e) ? 'This phone is out of storage space. Free some space and open Hearthside again.'
        : 'This browser is not letting Hearthside keep data (private browsing may be on). Open it in a normal window.')));
    return;
  }
  await onState(session.state());
}

main();
