// The HTTP client: every call carries the user's token in the Authorization header (never in
// a URL), errors become ApiError with the contract's `code`, and a 401 signs the user out.

const TOKEN_KEY = 'hangar.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code ? body.code : `http_${status}`;
    this.body = body || {};
  }
}

let unauthorized = () => {};

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Called once with what to do when the server rejects the token. */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${token()}`, ...extra };
}

/** A query string from an object, skipping null/undefined/'' values. */
export function qs(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * One request. Resolves to parsed JSON (null for 204), or the Response with {raw: true}.
 * The body is sent as JSON, or as it is with {contentType} (e.g. a CSV file's text).
 */
export async function request(method, path, body, { raw = false, contentType = null } = {}) {
  const type = contentType || 'application/json';
  const headers = authHeaders(body === undefined ? {} : { 'Content-Type': type });
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined || contentType ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { error: `cannot reach hangar (${e.message})`, code: 'network' });
  }
  if (res.status === 401) {
    unauthorized();
    throw new ApiError(401, { error: 'your token was not accepted', code: 'unauthorized' });
  }
  if (!res.ok) {
    let errBody;
    try { errBody = await res.json(); } catch { errBody = { error: `${res.status} ${res.statusText}` }; }
    throw new ApiError(res.status, errBody);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

/** Saves a Blob as a file through a temporary link. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Downloads an API CSV report (fetched with the header token, then saved). */
export async function downloadCsv(path, filename) {
  const res = await request('GET', path, undefined, { raw: true });
  saveBlob(await res.blob(), filename);
}

/** RFC 4180 CSV from a header and rows; null becomes an empty field, as the API writes it. */
export function toCsv(header, rows) {
  const field = (v) => {
    if (v === null || v === undefined) return '';
    const text = String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
