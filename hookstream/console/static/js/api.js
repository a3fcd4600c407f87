// The admin API client. The token lives in sessionStorage only (never in a
// URL) and goes out as a bearer header.

const TOKEN_KEY = 'hookstream.token';
const BASE = '/api/v1';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const error = body && typeof body === 'object' ? body.error || {} : {};
    super(error.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || '';
    this.details = error.details;
  }

  // The server has no such route (an older server, or a feature not there yet).
  get notAvailable() {
    return this.status === 405 || (this.status === 404 && this.message === 'Not Found');
  }
}

let onUnauthorized = () => {};
export const whenUnauthorized = (fn) => { onUnauthorized = fn; };

export async function call(method, path, body, { token = session.token } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (exc) {
    throw new ApiError(0, null, `the server did not answer (${exc.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!response.ok) {
    const err = new ApiError(response.status, data, typeof data === 'string' ? data : response.statusText);
    if (response.status === 401 && token === session.token) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body ?? {});
export const patch = (path, body) => call('PATCH', path, body);
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

// What this server offers, from its OpenAPI document: lets a page say "not
// available on this server" instead of failing on a missing route.
let spec = null;
async function openapi() {
  if (!spec) {
    spec = call('GET', '/openapi.json', undefined, { token: null }).catch(() => ({ paths: {} }));
  }
  return spec;
}

const shape = (template) => template.replace(/\{[^}]+\}/g, '{}');

export async function supports(method, template) {
  const doc = await openapi();
  const wanted = shape(BASE + template);
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    if (shape(path) === wanted && ops && ops[method.toLowerCase()]) return true;
  }
  return false;
}

export async function requestSchema(method, template) {
  const doc = await openapi();
  const wanted = shape(BASE + template);
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    if (shape(path) === wanted) {
      return ops?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema || null;
    }
  }
  return null;
}

export const list = async (path) => {
  const data = await get(path);
  return Array.isArray(data) ? data : (data?.data || []);
};

export const enc = encodeURIComponent;
