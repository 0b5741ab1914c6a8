// DOM helpers. Text always goes in through textContent / text nodes, never innerHTML.
import * as lock from './lock.js';
import * as model from './model.js';

const BOOL_PROPS = new Set(['checked', 'disabled', 'hidden', 'required', 'selected', 'readonly', 'multiple', 'open']);

function append(el, child) {
  if (child === null || child === undefined || child === false || child === true) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  if (child instanceof Node) { el.append(child); return; }
  el.append(document.createTextNode(String(child)));
}

/** h('button', {class: 'x', onclick: fn, on: {input: fn}}, 'text', child, [more]) */
export function h(tag, attrs = null, ...children) {
  const el = document.createElement(tag);
  if (attrs && (attrs instanceof Node || typeof attrs !== 'object' || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false && !BOOL_PROPS.has(k)) continue;
    if (k === 'on') { for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn); continue; }
    if (k.startsWith('on') && typeof v === 'function') { el.addEventListener(k.slice(2).toLowerCase(), v); continue; }
    if (k === 'style') continue; // CSP forbids inline styles: use classes
    if (k === 'class' || k === 'className') { el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v; continue; }
    if (k === 'dataset') { Object.assign(el.dataset, v); continue; }
    if (k === 'text') { el.textContent = v; continue; }
    if (BOOL_PROPS.has(k)) { el[k] = !!v; if (v) el.setAttribute(k, ''); continue; }
    if (k === 'value') { el.value = v; if (tag !== 'textarea' && tag !== 'select') el.setAttribute('value', v); continue; }
    if (k === 'for') { el.htmlFor = v; continue; }
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) append(el, c);
  return el;
}

export function heading(text, level = 1, attrs = {}) {
  const cls = level === 1 ? 'hs-heading-l' : level === 2 ? 'hs-heading-m' : 'hs-heading-s';
  return h(`h${level}`, { class: cls, ...(level === 1 ? { tabindex: '-1' } : {}), ...attrs }, text);
}

/** errors: [{text, href}] — the NHS error summary; focuses itself so it is read out. */
export function errorSummary(errors, title = 'There is a problem') {
  const box = h('div', { class: 'hs-error-summary', role: 'alert', tabindex: '-1', 'aria-labelledby': 'error-summary-title' },
    h('h2', { class: 'hs-error-summary__title', id: 'error-summary-title' }, title),
    h('ul', { class: 'hs-error-summary__list' },
      errors.map((e) => h('li', null, e.href ? h('a', { href: e.href }, e.text) : e.text))));
  queueMicrotask(() => { if (box.isConnected) box.focus(); });
  return box;
}

/** A safeguarding warning callout. */
export function warning(content, title = 'Important') {
  return h('div', { class: 'hs-warning-callout', role: 'note' },
    h('h3', { class: 'hs-warning-callout__label' }, h('span', { class: 'hs-visually-hidden' }, 'Important: '), title),
    typeof content === 'string' ? h('p', null, content) : content);
}

export function inset(content) {
  return h('div', { class: 'hs-inset-text' }, typeof content === 'string' ? h('p', null, content) : content);
}

const STATUS_TEXT = {
  'not-started': 'Not started', 'in-progress': 'In progress', completed: 'Completed', 'cannot-start': 'Cannot start yet',
};

/** items: [{text, href, status, hint}] — the NHS task list. */
export function taskList(items) {
  return h('ul', { class: 'hs-task-list' }, items.map((it, i) => {
    const id = `task-${i}-status`;
    return h('li', { class: 'hs-task-list__item' },
      h('span', { class: 'hs-task-list__name' },
        it.href && it.status !== 'cannot-start' ? h('a', { href: it.href, 'aria-describedby': id }, it.text) : it.text,
        it.hint ? h('span', { class: 'hs-hint' }, it.hint) : null),
      h('span', { class: `hs-tag hs-tag--${it.status || 'not-started'}`, id }, it.statusText || STATUS_TEXT[it.status] || it.status || ''));
  }));
}

/** A labelled form group. */
export function field(label, input, { hint = null, error = null } = {}) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  const hintId = hint ? `${input.id}-hint` : null;
  const errId = error ? `${input.id}-error` : null;
  const describedBy = [hintId, errId].filter(Boolean).join(' ');
  if (describedBy) input.setAttribute('aria-describedby', describedBy);
  if (error) { input.classList.add('hs-input--error'); input.setAttribute('aria-invalid', 'true'); }
  return h('div', { class: ['hs-form-group', error && 'hs-form-group--error'] },
    h('label', { class: 'hs-label', for: input.id }, label),
    hint ? h('div', { class: 'hs-hint', id: hintId }, hint) : null,
    error ? h('p', { class: 'hs-error-message', id: errId }, h('span', { class: 'hs-visually-hidden' }, 'Error: '), error) : null,
    input);
}

export function button(text, onClick, { secondary = false, warning: warn = false, type = 'button', attrs = {} } = {}) {
  return h('button', {
    type, class: ['hs-button', secondary && 'hs-button--secondary', warn && 'hs-button--warning'], onclick: onClick, ...attrs,
  }, text);
}

export function tag(text, colour = null) {
  return h('strong', { class: ['hs-tag', colour && `hs-tag--${colour}`] }, text);
}

const dateFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
const dtFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
export function formatDate(iso) { if (!iso) return ''; const d = new Date(iso); return Number.isNaN(d.getTime()) ? String(iso) : dateFmt.format(d); }
export function formatDateTime(iso) { if (!iso) return ''; const d = new Date(iso); return Number.isNaN(d.getTime()) ? String(iso) : dtFmt.format(d); }

/** Say something to screen-reader users without moving focus. */
export function announce(text) {
  const live = document.getElementById('hs-live');
  if (!live) return;
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.type === 'submit' || el.type === 'button' || el.type === 'password') continue;
    if (el.type === 'checkbox') { out[el.name] = out[el.name] || []; if (el.checked) out[el.name].push(el.value); }
    else if (el.type === 'radio') { if (el.checked) out[el.name] = el.value; else if (!(el.name in out)) out[el.name] = null; }
    else out[el.name] = el.value;
  }
  return out;
}

function restore(form, values) {
  for (const el of form.elements) {
    if (!el.name || !(el.name in values) || el.type === 'password') continue;
    const v = values[el.name];
    if (el.type === 'checkbox') el.checked = Array.isArray(v) && v.includes(el.value);
    else if (el.type === 'radio') el.checked = v === el.value;
    else el.value = v ?? '';
  }
}

/**
 * Keep a form's half-typed state in the encrypted drafts store: restored now, saved on
 * every input and before a lock. Returns a promise of the restored values (or null).
 */
export async function bindDraft(form, draftId) {
  const saved = await model.loadDraft(draftId).catch(() => null);
  if (saved) restore(form, saved);
  let timer = null;
  const save = () => { clearTimeout(timer); timer = null; return model.saveDraft(draftId, formValues(form)).catch((e) => console.error('draft not saved', e)); };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(save, 300); });
  form.addEventListener('change', save);
  const off = lock.onBeforeLock(() => (form.isConnected ? save() : null));
  const observer = new MutationObserver(() => { if (!form.isConnected) { off(); observer.disconnect(); } });
  observer.observe(document.body, { childList: true, subtree: true });
  return saved;
}

let visitBusy = false;
const busyListeners = new Set();
/** While a visit is in progress an app update is never applied. */
export function setVisitInProgress(flag) {
  visitBusy = !!flag;
  for (const fn of busyListeners) fn(visitBusy);
}
export function visitInProgress() { return visitBusy; }
export function onVisitInProgress(fn) { busyListeners.add(fn); return () => busyListeners.delete(fn); }

// The NHS.UK error at the field as well as in the summary: the message under the label, a
// red border, and the message read out with the field.
export function showFieldError(control, message) {
  const group = control && control.closest('.hs-form-group');
  if (!group) return;
  group.classList.add('hs-form-group--error');
  control.classList.add('hs-input--error');
  control.setAttribute('aria-invalid', 'true');
  const id = `${control.id}-error`;
  control.setAttribute('aria-describedby', [id, control.getAttribute('aria-describedby')].filter(Boolean).join(' '));
  control.before(h('p', { class: 'hs-error-message', id, 'data-field-error': '', 'data-testid': 'field-error' },
    h('span', { class: 'hs-visually-hidden' }, 'Error: '), message));
}
export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('[data-field-error]')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.classList.remove('hs-input--error');
    const rest = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== `${el.id}-error`);
    if (rest.length) el.setAttribute('aria-describedby', rest.join(' ')); else el.removeAttribute('aria-describedby');
    const group = el.closest('.hs-form-group');
    if (group) group.classList.remove('hs-form-group--error');
  }
}
