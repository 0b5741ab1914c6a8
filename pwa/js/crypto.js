// WebCrypto only. The data key is extractable only for the moment it is wrapped; the key
// held in memory for use is always unwrapped as non-extractable.

// What the phone writes: twice the 600,000 it wrote before, about 0.2 s a derivation on one
// desktop core and under 1 s on a mid-range phone (docs/security.md, "Unlocking the phone";
// bench/unlock_kdf.py). Every unlock pays it once, so it cannot grow much further: the
// secret's length is the real defence, which is why the agency can require more.
export const PBKDF2_ITERATIONS = 1200000;
// The least a stored record may carry: records written before the rise still unlock (and
// are re-wrapped at PBKDF2_ITERATIONS); anything weaker is refused, never trusted.
export const PBKDF2_MIN_ITERATIONS = 600000;
const subtle = crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

export function b64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A fresh AES-GCM-256 data key, extractable so that it can be wrapped (twice), then dropped. */
export function generateDataKey() {
  return subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
}

/** PIN or passphrase → AES-KW wrapping key (PBKDF2-SHA256). */
export async function deriveWrappingKey(secret, salt, iterations = PBKDF2_ITERATIONS) {
  if (!(iterations >= PBKDF2_MIN_ITERATIONS)) throw new Error('Too few PBKDF2 iterations.');
  const base = await subtle.importKey('raw', enc.encode(secret.normalize('NFKC')), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base, { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey'],
  );
}

/** The server's escrow key (base64url, 32 bytes) as an AES-KW key. */
export function importEscrowKey(b64url) {
  const raw = b64urlDecode(b64url);
  if (raw.length !== 32) throw new Error('The escrow key from the server is not 32 bytes.');
  return subtle.importKey('raw', raw, { name: 'AES-KW' }, false, ['wrapKey', 'unwrapKey']);
}

export async function wrap(dataKey, wrappingKey) {
  return new Uint8Array(await subtle.wrapKey('raw', dataKey, wrappingKey, 'AES-KW'));
}

/** Unwrap as extractable, only to wrap it again at once (a new secret, new parameters). */
export function unwrapForRewrap(wrapped, wrappingKey) {
  return subtle.unwrapKey('raw', wrapped, wrappingKey, 'AES-KW', { name: 'AES-GCM', length: 256 }, true,
    ['encrypt', 'decrypt']);
}

/** Unwrap as NON-extractable: exportKey on the result throws. Wrong key → OperationError. */
export function unwrap(wrapped, wrappingKey) {
  return subtle.unwrapKey('raw', wrapped, wrappingKey, 'AES-KW', { name: 'AES-GCM', length: 256 }, false,
    ['encrypt', 'decrypt']);
}

/** Encrypt a JSON-able value; a fresh 96-bit IV per write; AAD binds it to its place. */
export async function encrypt(key, value, aad) {
  const iv = randomBytes(12);
  const ct = await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(aad) }, key,
    enc.encode(JSON.stringify(value)));
  return { iv, ct: new Uint8Array(ct) };
}

export async function decrypt(key, box, aad) {
  const pt = await subtle.decrypt({ name: 'AES-GCM', iv: box.iv, additionalData: enc.encode(aad) }, key, box.ct);
  return JSON.parse(dec.decode(pt));
}
