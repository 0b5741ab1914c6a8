// Web-push subscription from the page: ask permission, subscribe with the server's VAPID
// key, register the subscription for this device. Notifications carry no personal data;
// when push is unavailable or blocked the app still shows what is due when it opens.
import * as api from './api.js';

const SUBSCRIBE_TIMEOUT_MS = 15000;

export function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

export function permission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

function b64uToBytes(text) {
  const pad = '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob((text + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function sameKey(buffer, text) {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  const b = b64uToBytes(text);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function withTimeout(promise, ms, message) {
  // pushManager.subscribe() can wait for ever without a route to the push service.
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms))]);
}

/** {supported, permission, subscribed} for this device (server's view when online). */
export async function state() {
  if (!supported()) return { supported: false, permission: 'unsupported', subscribed: false };
  let subscribed = false;
  try {
    subscribed = !!(await api.get('/api/v1/push/subscription')).subscribed;
  } catch (_) {
    const reg = await navigator.serviceWorker.getRegistration();
    subscribed = !!(reg && await reg.pushManager.getSubscription());
  }
  return { supported: true, permission: permission(), subscribed };
}

/** Turn notifications on for this device. Resolves {ok, message}. Never throws. */
export async function enable() {
  if (!supported()) return { ok: false, message: 'This browser cannot show notifications. Open Hearthside to see what is due.' };
  try {
    const perm = await Notification.requestPermission();
    if (perm !== 'granted') {
      return { ok: false, message: 'Notifications are blocked for Hearthside. You can allow them in the browser settings.' };
    }
    const reg = await navigator.serviceWorker.ready;
    const { public_key: key } = await api.get('/api/v1/push/vapid-public-key');
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameKey(sub.options && sub.options.applicationServerKey, key)) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) {
      sub = await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64uToBytes(key) }),
        SUBSCRIBE_TIMEOUT_MS, 'The push service did not answer. Try again when you have a good connection.');
    }
    await api.post('/api/v1/push/subscription', sub.toJSON());
    return { ok: true, message: 'Notifications are on for this phone.' };
  } catch (e) {
    return { ok: false, message: e && e.message ? e.message : 'Notifications could not be turned on.' };
  }
}

/** Turn notifications off for this device (server first, so nothing more is sent). */
export async function disable() {
  try {
    await api.del('/api/v1/push/subscription');
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = reg && await reg.pushManager.getSubscription();
    if (sub) await sub.unsubscribe();
    return { ok: true, message: 'Notifications are off for this phone.' };
  } catch (e) {
    return { ok: false, message: e && e.message ? e.message : 'Notifications could not be turned off.' };
  }
}
