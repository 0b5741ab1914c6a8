// Hash router. Routes come from route() calls or a table of lazy modules
// ({pattern, load: () => import(...)}, each exporting render(root, params, ctx)).
const routes = [];
let outlet = null;
let cleanup = null;
let ctx = {};
let fallback = '#/today';
let renderSeq = 0;
let started = false;
let paused = false;
// Whether the person has tapped or typed on the screen since it was drawn: a redraw they did
// not ask for (the first sync landing) must not take away what they were doing or were shown.
let touched = false;
export function touchedSinceRender() { return touched; }

function compile(pattern) {
  const names = [];
  const src = pattern.replace(/^#?\/?/, '').split('/').map((part) => {
    if (part.startsWith(':')) { names.push(part.slice(1)); return '([^/]+)'; }
    if (part === '*') { names.push('rest'); return '(.*)'; }
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/');
  return { re: new RegExp(`^#/${src}/?$`), names };
}

/** route('#/family/:id', (params, el) => ...) — also accepts render(root, params, ctx). */
export function route(pattern, render, { title = null } = {}) {
  routes.push({ pattern, ...compile(pattern), render, title });
}

export function addRoutes(table) {
  for (const r of table) routes.push({ pattern: r.pattern, ...compile(r.pattern), load: r.load, title: r.title || null });
}

export function setContext(c) { ctx = c; }
export function setFallback(hash) { fallback = hash; }

function match(hash) {
  // Longer, more specific patterns win over generic ones.
  const sorted = [...routes].sort((a, b) => b.pattern.split('/').length - a.pattern.split('/').length);
  for (const r of sorted) {
    const m = r.re.exec(hash);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { r, params };
    }
  }
  return null;
}

export function current() {
  const hash = location.hash || fallback;
  const m = match(hash);
  return { hash, params: m ? m.params : {} };
}

/**
 * Render the current route again. `quiet` is for a refresh the person did not ask for (a
 * sync brought changes): focus and scroll stay where they are.
 */
export async function rerender({ quiet = false } = {}) {
  if (!outlet || paused) return;
  const scrollY = window.scrollY;
  const seq = ++renderSeq;
  const hash = location.hash && location.hash !== '#' ? location.hash : fallback;
  if (!hash.startsWith('#/')) return; // an in-page anchor (the skip link), not a route
  const m = match(hash);
  if (!m) { if (hash !== fallback) { navigate(fallback, { replace: true }); } return; }
  if (typeof cleanup === 'function') { try { cleanup(); } catch (e) { console.error(e); } }
  cleanup = null;
  const el = document.createElement('div');
  el.className = 'screen';
  outlet.replaceChildren(el);
  touched = false;
  let render = m.r.render;
  try {
    if (!render && m.r.load) {
      const mod = await m.r.load();
      render = mod.render || mod.default;
      m.r.render = render;
    }
    if (seq !== renderSeq) return;
    // Both signatures: (root, params, ctx) for screen modules, (params, el) for route().
    const result = m.r.load ? await render(el, m.params, ctx) : await render(m.params, el, ctx);
    if (seq !== renderSeq) { if (typeof result === 'function') result(); return; }
    cleanup = result;
    // The title names the screen, never what is on it: a family's name in a tab, a task
    // switcher or the history would be personal data outside the locked app.
    document.title = `${m.r.title || 'Hearthside'} – Hearthside`;
    const h1 = el.querySelector('h1');
    if (h1 && !quiet) {
      if (!h1.hasAttribute('tabindex')) h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: false });
    } else if (quiet) window.scrollTo(0, scrollY);
    document.dispatchEvent(new CustomEvent('hearthside:rendered', { detail: { hash } }));
  } catch (e) {
    console.error('screen failed', e);
    if (seq !== renderSeq) return;
    const p = document.createElement('p');
    p.className = 'hs-error-message';
    p.textContent = 'This screen could not be shown. Your work is saved. Try again, or go back to Today.';
    el.replaceChildren(p);
  }
}

export function navigate(hash, { replace = false } = {}) {
  if (!hash.startsWith('#')) hash = `#${hash.startsWith('/') ? '' : '/'}${hash}`;
  if (location.hash === hash) { rerender(); return; }
  if (replace) { history.replaceState(null, '', hash); rerender(); } else location.hash = hash;
}
export const go = navigate;

/** Stop rendering (locked) / render again (unlocked). */
export function pause() {
  paused = true;
  if (typeof cleanup === 'function') { try { cleanup(); } catch (e) { console.error(e); } }
  cleanup = null;
}
export function resume(el) { start(el || outlet); }

export function start(el) {
  outlet = el;
  paused = false;
  if (!started) {
    started = true;
    window.addEventListener('hashchange', () => rerender());
    for (const type of ['pointerdown', 'keydown', 'input']) {
      document.addEventListener(type, (ev) => { if (outlet && outlet.contains(ev.target)) touched = true; }, true);
    }
  }
  rerender();
}
