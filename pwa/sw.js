// Service worker: a versioned precache of the app shell ONLY. API responses are never
// cached (they carry personal data); /api/ requests are not even looked at.
importScripts('/shell-manifest.js'); // defines self.SHELL_VERSION and self.SHELL (generated)
try {
  importScripts('/js/sw-push.js'); // push and notificationclick handlers live there
} catch (e) {
  // A broken push file must not stop the app working offline.
}

const PREFIX = 'hearthside-shell-';
const CACHE = PREFIX + self.SHELL_VERSION;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Fresh from the network (not the HTTP cache), all or nothing.
    await cache.addAll(self.SHELL.map((url) => new Request(url, { cache: 'reload' })));
    // The first install takes control at once; an update waits for the person to reload.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/health' || url.pathname.startsWith('/schema')) return;
  if (req.mode === 'navigate') {
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      const shell = await cache.match('/index.html') || await cache.match('/');
      if (shell) return shell;
      return fetch(req);
    })());
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    // Not part of the shell: straight to the network, never stored.
    return fetch(req);
  })());
});
