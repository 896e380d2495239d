// one state object per page; keys follow the REST field names (dataset, model, training, stream, ...).

export function createStore(initial) {
  let state = { ...initial };
  const subscribers = new Set();
  return {
    get: () => state,
    /** shallow-merge `patch` and tell every subscriber which keys changed */
    update(patch) {
      state = { ...state, ...patch };
      for (const fn of subscribers) fn(state, patch);
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
}

// share links: the configuration keys as base64url JSON in the URL hash (#s=...)
const URL_KEY = "s";

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export function serialize(state, keys) {
  const picked = {};
  for (const k of keys) if (state[k] !== undefined) picked[k] = state[k];
  return toBase64Url(JSON.stringify(picked));
}

export function shareUrl(state, keys, loc = window.location) {
  return `${loc.origin}${loc.pathname}#${URL_KEY}=${serialize(state, keys)}`;
}

/** the configuration stored in the current URL, or null when there is none or it is unreadable */
export function readUrl(loc = window.location) {
  const params = new URLSearchParams(loc.hash.slice(1));
  const raw = params.get(URL_KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(fromBase64Url(raw));
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

/** keep the URL in sync without adding history entries */
export function writeUrl(state, keys) {
  const url = `${location.pathname}${location.search}#${URL_KEY}=${serialize(state, keys)}`;
  history.replaceState(null, "", url);
}
