// The API client of the UI: JSON in and out, the session's CSRF token on every change, and errors as
// ApiError with the server's stable problem code (the UI translates by code, never shows raw HTML).

/** A failed API call. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? 'HTTP_ERROR';
    this.problem = problem ?? null;
  }
}

const state = { csrf: null, onUnauthenticated: null };

/** Remembers the CSRF token of this session (from login or /auth/me). */
export function setCsrf(token) {
  state.csrf = token;
}

/** Called when any call answers 401 (the session ended): the app shows the login page. */
export function onUnauthenticated(fn) {
  state.onUnauthenticated = fn;
}

/**
 * Calls the API. `body` is sent as JSON.
 * @returns {Promise<any>}
 */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['x-csrf-token'] = state.csrf;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    throw new ApiError(0, { code: 'NETWORK', message: String(err?.message ?? err) });
  }
  const text = await res.text();
  let data = null;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/auth/login' && state.onUnauthenticated) state.onUnauthenticated();
    throw new ApiError(res.status, data);
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b) => api('POST', p, b);
export const patch = (p, b) => api('PATCH', p, b);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);

/** Query string from an object (undefined values skipped). */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
