// the only module that knows URLs, fetch and WebSocket.

export class ApiError extends Error {
  constructor(status, detail) {
    super(formatDetail(detail) || `request failed (${status})`);
    this.status = status;
    this.detail = detail;
  }
}

// fastapi/pydantic errors come as {"detail": str | [{loc, msg}] | {problems: [...]}}
function formatDetail(detail) {
  if (!detail) return "";
  if (typeof detail === "string") return detail;
  if (typeof detail.message === "string" && detail.message) return detail.message;
  const d = detail.detail ?? detail;
  if (typeof d === "string") return d;
  const list = Array.isArray(d) ? d : d.problems || d.errors || [d];
  return list.map((p) => {
    if (typeof p === "string") return p;
    const where = p.path ?? (Array.isArray(p.loc) ? p.loc.join(".") : p.loc);
    const what = p.message ?? p.msg ?? JSON.stringify(p);
    return where ? `${where}: ${what}` : what;
  }).join("; ");
}

// ---- API token (servers started with NNPLAY_API_TOKEN): kept for this tab only
const TOKEN_KEY = "nnplay-api-token";

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lasts until the page reloads */ }
  memoryToken = token || "";
}
let memoryToken = getToken();

async function request(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && memoryToken) init.headers.Authorization = `Bearer ${memoryToken}`;
  const res = await fetch(url, init);
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  if (res.status === 401) window.dispatchEvent(new CustomEvent("nnplay:unauthorized"));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

let catalogPromise = null;
/** the catalog, fetched once per page (several modules ask for it) */
export function getCatalog() {
  if (!catalogPromise) catalogPromise = request("GET", "/api/catalog").catch((e) => { catalogPromise = null; throw e; });
  return catalogPromise;
}
export const previewDataset = (dataset) => request("POST", "/api/datasets/preview", { dataset });
export const summarizeModel = (body) => request("POST", "/api/models/summary", body);
/** the untrained network: the trainer's epoch-0 boundary frame, starting weights, feature maps */
export const previewModel = (spec) => request("POST", "/api/models/preview", spec);
export const autoencoderOptions = () => request("GET", "/api/models/autoencoder");
export const autoencoderLayout = (options) => request("POST", "/api/models/autoencoder", options);
export const createJob = (spec) => request("POST", "/api/jobs", spec);
export const getJob = (id) => request("GET", `/api/jobs/${encodeURIComponent(id)}`);
// the whole spec, inline data included (a job's own answer summarises inline data over the server's echo limit)
export const getJobSpec = (id) => request("GET", `/api/jobs/${encodeURIComponent(id)}/spec`);
export const listJobs = (params = {}) => request("GET", `/api/jobs?${new URLSearchParams(params)}`);
export const cancelJob = (id) => request("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`);
export const deleteJob = (id) => request("DELETE", `/api/jobs/${encodeURIComponent(id)}`);
/** every epoch record of a job: the server pages its history (`since`, `next_since`), this follows the pages */
export async function getHistory(id) {
  const epochs = [];
  let since = 0;
  for (;;) {
    const page = await request("GET", `/api/jobs/${encodeURIComponent(id)}/history?since=${since}`);
    epochs.push(...page.epochs);
    if (page.next_since === null || page.next_since === undefined) return { ...page, epochs };
    since = page.next_since;
  }
}
export const getWeights = async (id) => normalizeWeights(await request("GET", `/api/jobs/${encodeURIComponent(id)}/weights`));
export const getEvaluation = (id) => request("GET", `/api/jobs/${encodeURIComponent(id)}/evaluation`);
export const sendCommand = (id, cmd) => request("POST", `/api/jobs/${encodeURIComponent(id)}/commands`, cmd);
export const predictDigit = (body) => request("POST", "/api/digits/predict", body);
export const sampleDigit = (index) => request("GET", `/api/digits/sample${index === undefined ? "" : `?index=${index}`}`);

// links the browser follows itself (downloads)
export const downloadUrls = (id) => {
  const base = `/api/jobs/${encodeURIComponent(id)}`;
  return { model: `${base}/model`, csv: `${base}/history?format=csv`, history: `${base}/history` };
};

// characters allowed in a WebSocket subprotocol name (an HTTP token, RFC 7230)
const TOKEN_PROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Open the job's event stream; reconnects with `since` = last epoch seen until "done"/"error"
 * or `close()`. handlers: onMessage(msg), onState("open" | "reconnecting" | "closed").
 */
export function openJobStream(id, { onMessage, onState = () => {}, since = 0 }) {
  let ws = null;
  let lastEpoch = since;
  let finished = false;
  let retry = 0;
  let timer = null;
  const queue = [];

  const connect = () => {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    // the token rides in the subprotocol offer, never in the URL (URLs end up in logs and history);
    // one that is not a valid protocol name goes as the first message instead
    const inOffer = TOKEN_PROTOCOL.test(memoryToken);
    const protocols = inOffer ? ["nnplay", `nnplay.token.${memoryToken}`] : ["nnplay"];
    ws = new WebSocket(`${proto}://${location.host}/ws/jobs/${encodeURIComponent(id)}?since=${lastEpoch}`, protocols);
    ws.onopen = () => {
      retry = 0;
      if (memoryToken && !inOffer) ws.send(JSON.stringify({ type: "auth", token: memoryToken }));
      onState("open");
      while (queue.length) ws.send(JSON.stringify(queue.shift()));
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.type === "auth") return;  // the answer to our auth message
      if (msg.type === "epoch" && msg.epoch > lastEpoch) lastEpoch = msg.epoch;
      if (msg.type === "done" || (msg.type === "error" && !msg.recoverable)) finished = true;
      onMessage(msg);
    };
    ws.onclose = () => {
      if (finished) { onState("closed"); return; }
      onState("reconnecting");
      retry += 1;
      timer = setTimeout(connect, Math.min(4000, 250 * 2 ** Math.min(retry, 4)));
    };
  };
  connect();

  return {
    send(cmd) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(cmd));
      else queue.push(cmd);
    },
    close() {
      finished = true;
      clearTimeout(timer);
      if (ws) ws.close();
    },
    get lastEpoch() { return lastEpoch; },
  };
}

/** weights response -> {"i.W": nested array (n_in, n_out)} whatever the wrapping */
export function normalizeWeights(resp) {
  if (!resp) return {};
  const w = resp.weights || resp.params || resp;
  if (Array.isArray(w)) {
    const out = {};
    w.forEach((entry, i) => { if (entry && entry.W) out[`${entry.layer ?? i}.W`] = entry.W; });
    return out;
  }
  return w;
}

// ---- lessons 2 and 3: optimizers on a loss surface, initialization
export const getOptimizersLesson = () => request("GET", "/api/lessons/optimizers");
export const optimizerPaths = (body) => request("POST", "/api/lessons/optimizers", body);
export const momentumPhase = (body) => request("POST", "/api/lessons/optimizers/phase", body);
export const getInitializationLesson = () => request("GET", "/api/lessons/initialization");
export const activationStatistics = (body) => request("POST", "/api/lessons/initialization", body);

// ---- lessons: backprop, step by step
export const differentiateExpression = (body) => request("POST", "/api/lessons/expression", body);
export const stepBackprop = (body) => request("POST", "/api/lessons/backprop", body);
export const getBackpropPresets = () => request("GET", "/api/lessons/backprop/presets");

// ---- runs page (helper L, issue 11): a run's own name; null restores the generated one
export const renameJob = (id, name) => request("PATCH", `/api/jobs/${encodeURIComponent(id)}`, { name });
export const getEvaluationCell = (id, label, predicted) =>
  request("GET", `/api/jobs/${encodeURIComponent(id)}/evaluation/cell?${new URLSearchParams({ label, predicted })}`);
export const getFirstLayer = (jobId) =>
  request("GET", `/api/digits/first-layer${jobId ? `?${new URLSearchParams({ job_id: jobId })}` : ""}`);
// ---- hyperparameter sweeps (issue 13)
export const createSweep = (body) => request("POST", "/api/sweeps", body);
export const getSweep = (id) => request("GET", `/api/sweeps/${encodeURIComponent(id)}`);
export const listSweeps = (params = {}) => request("GET", `/api/sweeps?${new URLSearchParams(params)}`);
export const cancelSweep = (id) => request("POST", `/api/sweeps/${encodeURIComponent(id)}/cancel`);
/** the next sweep's body: every range narrowed around the best trial (the engine's rule) */
export const narrowedSweep = (id) => request("GET", `/api/sweeps/${encodeURIComponent(id)}/narrowed`);
// ---- sequences (issue 14): text from a character model, test sequences with predictions
export const generateText = (id, body) => request("POST", `/api/jobs/${encodeURIComponent(id)}/generate`, body);
export const getSequences = (id, count = 8) => request("GET", `/api/jobs/${encodeURIComponent(id)}/sequences?count=${count}`);

// ---- representations (issue 15): an autoencoder's code space, its decoder, its reconstructions
export const getCodes = (id, params = {}) =>
  request("GET", `/api/jobs/${encodeURIComponent(id)}/codes?${new URLSearchParams(params)}`);
export const decodeCodes = (id, codes) => request("POST", `/api/jobs/${encodeURIComponent(id)}/decode`, { codes });
export const getReconstructions = (id, limit = 8) =>
  request("GET", `/api/jobs/${encodeURIComponent(id)}/reconstructions?limit=${limit}`);
