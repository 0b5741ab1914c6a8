// Web push for the service worker (imported by /sw.js with importScripts).
//
// A push payload is only {type, count, id}: push services are third parties, so nothing
// about a family ever travels through them. The notification says what kind of thing is
// waiting; the app shows the details after the practitioner unlocks it. A click opens (or
// focuses) the app at the item's route; a locked app keeps the hash and renders it once
// unlocked.
(function () {
  'use strict';

  const KINDS = {
    'flag-urgent': {
      title: 'Urgent flag',
      body: (n) => (n === 1 ? '1 urgent flag needs your attention.' : `${n} urgent flags need your attention.`),
      route: (id) => (id ? `#/flags/${id}` : '#/supervisor'),
      urgent: true,
    },
    'flag': {
      title: 'New flag',
      body: (n) => (n === 1 ? '1 flag needs your attention.' : `${n} flags need your attention.`),
      route: (id) => (id ? `#/flags/${id}` : '#/supervisor'),
    },
    'follow-up-due': {
      title: 'Follow-up due today',
      body: (n) => (n === 1 ? '1 follow-up is due today.' : `${n} follow-ups are due today.`),
      route: (id) => (id ? `#/follow-ups/${id}` : '#/follow-ups'),
    },
    'follow-up-overdue': {
      title: 'Follow-up overdue',
      body: (n) => (n === 1 ? '1 follow-up is overdue.' : `${n} follow-ups are overdue.`),
      route: (id) => (id ? `#/follow-ups/${id}` : '#/follow-ups'),
    },
  };
  const FALLBACK = { title: 'Hearthside', body: () => 'Something needs your attention.', route: () => '#/today' };
  // Ids are opaque UUIDs; anything else is ignored rather than put into a URL.
  const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  function parse(event) {
    try {
      const data = event.data ? event.data.json() : {};
      return data && typeof data === 'object' ? data : {};
    } catch (_) {
      return {};
    }
  }

  /** {title, options} for a payload; exported for tests via self.hearthsidePush. */
  function describe(data) {
    const kind = KINDS[data.type] || FALLBACK;
    const count = Number.isInteger(data.count) && data.count > 0 ? data.count : 1;
    const id = typeof data.id === 'string' && ID.test(data.id) ? data.id.toLowerCase() : null;
    const hash = kind.route(id);
    return {
      title: kind.title,
      options: {
        body: `${kind.body(count)} Unlock Hearthside to see it.`,
        // One notification per item: a repeat replaces rather than piles up.
        tag: `${data.type || 'hearthside'}:${id || 'all'}`,
        renotify: !!kind.urgent,
        requireInteraction: !!kind.urgent,
        icon: '/icons/icon-192.png',
        badge: '/icons/icon-192.png',
        data: { hash, type: data.type || null, id },
      },
    };
  }

  async function show(data) {
    const { title, options } = describe(data);
    await self.registration.showNotification(title, options);
    // Tell open windows, so a screen that lists these can refresh (no details sent).
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const w of windows) w.postMessage({ type: 'hearthside:push', kind: data.type || null, id: options.data.id });
  }

  async function open(notification) {
    const hash = (notification && notification.data && notification.data.hash) || '#/today';
    const url = new URL(`/${hash}`, self.location.origin).href;
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const mine = windows.find((w) => new URL(w.url).origin === self.location.origin);
    if (mine) {
      let target = mine;
      if ('navigate' in mine) {
        try { target = (await mine.navigate(url)) || mine; } catch (_) { target = mine; }
      }
      if ('focus' in target) {
        try { return await target.focus(); } catch (_) { return target; }
      }
      return target;
    }
    return self.clients.openWindow(url);
  }

  self.addEventListener('push', (event) => {
    event.waitUntil(show(parse(event)));
  });

  self.addEventListener('notificationclick', (event) => {
    event.notification.close();
    event.waitUntil(open(event.notification));
  });

  self.hearthsidePush = { describe, show, open };
})();
