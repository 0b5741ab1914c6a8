// Push and notificationclick handlers for the service worker (imported by /sw.js).
// Left empty on purpose: the push engineer adds them here. Payloads carry no personal data.
