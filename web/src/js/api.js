// Same-origin REST client for /api/v1 with the bearer token kept in localStorage.

const kTokenKey = 'stoke.token';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || '';
  }
}

export function getToken() { return localStorage.getItem(kTokenKey) || ''; }
export function setToken(token) { localStorage.setItem(kTokenKey, token); }
export function clearToken() { localStorage.removeItem(kTokenKey); }

function url(path, query) {
  const u = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

async function toError(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && body.error;
  return new ApiError(res.status, e?.code || `http_${res.status}`, e?.message || `${res.status} ${res.statusText}`, e?.field);
}

// Listeners told when the server says the token is not (or no longer) valid.
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) { unauthorizedListeners.add(fn); }

// fetch with the token; resolves to the Response (ok) or throws ApiError.
export async function request(path, { method = 'GET', query, body, headers = {}, signal, token } = {}) {
  const init = { method, signal, headers: { ...headers } };
  const auth = token ?? getToken();
  if (auth) init.headers.Authorization = `Bearer ${auth}`;
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url(path, query), init);
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && token === undefined) unauthorizedListeners.forEach((fn) => fn(err));
    throw err;
  }
  return res;
}

export async function api(path, options) {
  const res = await request(path, options);
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

// Downloads an authenticated resource as a file (links cannot carry the bearer header).
export async function download(path, query, fallbackName) {
  const res = await request(path, { query });
  const blob = await res.blob();
  const disposition = res.headers.get('Content-Disposition') || '';
  const match = /filename="?([^";]+)"?/.exec(disposition);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = match ? match[1] : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  return blob.size;
}

// Reads a text/event-stream response (fetch, so the bearer header goes along; EventSource cannot send it)
// and calls onEvent(type, data) per event until the stream ends or signal aborts. Chromium delivers SSE as
// it arrives, whereas it holds back the first KiB of a streamed text/plain body.
export async function streamEvents(path, query, onEvent, signal) {
  const res = await request(path, { query, signal, headers: { Accept: 'text/event-stream' } });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const flush = (block) => {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const key = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (key === 'event') type = value;
      else if (key === 'data') data.push(value);
    }
    if (data.length || type !== 'message') onEvent(type, data.join('\n'));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      flush(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
  if (buffer.trim()) flush(buffer);
}
