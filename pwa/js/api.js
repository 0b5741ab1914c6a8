// fetch wrapper: bearer token, one refresh-and-retry on 401, problem+json as exceptions.

let accessToken = null;
let refresher = null;

export function setAccessToken(t) { accessToken = t; }
export function hasAccessToken() { return !!accessToken; }
/** session.js registers how to get a new access token (returns true when it did). */
export function onUnauthorized(fn) { refresher = fn; }

export class ApiError extends Error {
  constructor(message, { status = 0, type = null, title = null, detail = null, errors = [], body = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.body = body;
  }
  get offline() { return this.status === 0; }
}

const PLAIN = {
  400: 'The server could not accept what was sent.',
  401: 'You need to sign in again.',
  403: 'You are not allowed to do that.',
  404: 'That could not be found on the server.',
  409: 'That clashes with a change already on the server.',
  413: 'That is too large to send.',
  422: 'Some of what was sent is not valid.',
  429: 'The server is busy; it will be tried again shortly.',
};

function plainMessage(status, problem) {
  if (problem && (problem.detail || problem.title)) return problem.detail || problem.title;
  if (status >= 500) return 'The server had a problem; it will be tried again.';
  return PLAIN[status] || `The server answered with an error (${status}).`;
}

async function send(method, path, body, headers) {
  const h = { Accept: 'application/json, application/problem+json', ...headers };
  if (accessToken) h.Authorization = `Bearer ${accessToken}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  try {
    return await fetch(path, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit',
    });
  } catch (_) {
    throw new ApiError('No connection to the server.', { status: 0 });
  }
}

export async function call(method, path, body, { headers = {}, retry = true } = {}) {
  let res = await send(method, path, body, headers);
  if (res.status === 401 && retry && refresher && !path.startsWith('/api/v1/auth/')) {
    if (await refresher()) res = await send(method, path, body, headers);
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try { data = await res.json(); } catch (_) { data = null; }
  }
  if (!res.ok) {
    const p = data || {};
    const errors = Array.isArray(p.errors) ? p.errors : [];
    throw new ApiError(plainMessage(res.status, p), {
      status: res.status, type: p.type || null, title: p.title || null, detail: p.detail || null, errors, body: p,
    });
  }
  return data;
}

export const get = (path, opts) => call('GET', path, undefined, opts);
export const post = (path, body, opts) => call('POST', path, body ?? {}, opts);
export const patch = (path, body, opts) => call('PATCH', path, body, opts);
export const del = (path, opts) => call('DELETE', path, undefined, opts);
