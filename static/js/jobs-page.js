// /jobs page: table of runs (cancel / delete), overlay of selected runs' curves, one run's history + downloads.
import * as api from "./api.js";
import { createStore, serialize } from "./state.js";
import { createLineChart, historySeries, metricName, renderLegend } from "./charts.js";
import { SERIES_COLORS, el, formatDuration, formatNumber, frameScheduler } from "./draw-util.js";
import { mountTokenBox } from "./auth.js";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["queued", "running", "paused"]);
const POLL_MS = 2000;

const store = createStore({
  items: [], total: 0, selected: [], histories: {}, open: null, error: "",
  sort: { key: "created", dir: -1 }, filters: {}, confirming: null, renaming: null,
});

// what a row is sorted and filtered by; the name itself comes from the server (engine/naming.py)
const optimizerOf = (job) => job.spec?.training?.optimizer?.name ?? "";
const rateOf = (job) => job.spec?.training?.optimizer?.learning_rate ?? null;
const bestValue = (job) => { const b = job.best || job.latest || {}; return b.test_accuracy ?? b.test_r2 ?? null; };
const durationSeconds = (job) => (job.started_at ? (job.finished_at || Date.now() / 1000) - job.started_at : null);
const SORT_KEYS = {
  created: (j) => j.created_at, name: (j) => (j.name || j.id).toLowerCase(), status: (j) => j.status,
  dataset: (j) => j.spec?.dataset?.name ?? "", optimizer: optimizerOf, lr: rateOf, epoch: (j) => j.epoch ?? 0,
  best: bestValue, test_loss: (j) => j.latest?.test_loss ?? null, duration: durationSeconds,
};
const FILTERS = {
  status: (j) => j.status, dataset: (j) => j.spec?.dataset?.name ?? "", optimizer: optimizerOf,
  lr: (j) => (rateOf(j) === null ? "" : String(rateOf(j))),
};

function compareValues(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;   // missing values last, whichever the direction
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}

function visibleJobs() {
  const { items, sort, filters } = store.get();
  const minBest = filters.best === "" || filters.best === undefined ? null : Number(filters.best);
  const shown = items.filter((j) => Object.entries(FILTERS).every(([k, f]) => !filters[k] || f(j) === filters[k])
    && (minBest === null || (bestValue(j) ?? -Infinity) >= minBest));
  const key = SORT_KEYS[sort.key];
  return shown.map((j, i) => [j, i]).sort(([a, i], [b, k]) => {
    const va = key(a); const vb = key(b);
    if (va === null || va === undefined || vb === null || vb === undefined) return compareValues(va, vb) || i - k;
    return sort.dir * compareValues(va, vb) || i - k;
  }).map(([j]) => j);
}

function modelSummary(spec) {
  const layers = spec?.model?.layers || [];
  return layers.map((l) => {
    const act = typeof l.activation === "object" ? l.activation?.name : l.activation;
    const size = l.units ?? l.filters ?? "";
    return `${l.type}${size ? " " + size : ""}${act && act !== "linear" ? " " + act : ""}`;
  }).join(" → ");
}

function bestMetric(job) {
  const b = job.best || job.latest || {};
  if (b.test_accuracy !== undefined) return `${(b.test_accuracy * 100).toFixed(1)}%`;
  if (b.test_r2 !== undefined) return `r² ${formatNumber(b.test_r2)}`;
  return "–";
}

function duration(job) {
  const secs = durationSeconds(job);
  if (secs === null) return "–";
  return secs < 10 ? `${Math.max(0.1, secs).toFixed(1)}s` : formatDuration(secs);
}

function fillFilter(select, values) {
  const want = ["", ...[...new Set(values)].filter((v) => v !== "").sort((a, b) => compareValues(Number(a) || a, Number(b) || b))];
  const have = [...select.options].map((o) => o.value);
  if (want.join("\n") === have.join("\n")) return;
  const current = select.value;
  select.replaceChildren(...want.map((v) => el("option", { value: v, text: v || "all" })));
  select.value = want.includes(current) ? current : "";
}

function renderFilters() {
  const { items } = store.get();
  for (const [k, f] of Object.entries(FILTERS)) fillFilter($(`filter-${k}`), items.map(f));
}

function renderSortHeads() {
  const { sort } = store.get();
  for (const th of document.querySelectorAll("#jobs-table th[data-sort]")) {
    const on = th.dataset.sort === sort.key;
    th.setAttribute("aria-sort", on ? (sort.dir > 0 ? "ascending" : "descending") : "none");
  }
}

function nameCell(job) {
  const { renaming } = store.get();
  if (renaming === job.id) {
    const input = el("input", { type: "text", class: "rename", maxlength: "80", value: job.name || "",
      "aria-label": `new name for run ${job.id}` });
    const save = async () => {
      if (store.get().renaming !== job.id) return;
      store.update({ renaming: null });
      try { await api.renameJob(job.id, input.value.trim() || null); } catch (e) { store.update({ error: e.message }); }
      loadJobs();
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") save();
      if (ev.key === "Escape") store.update({ renaming: null });
    });
    input.addEventListener("blur", save);
    requestAnimationFrame(() => { input.focus(); input.select(); });
    return el("td", { class: "name" }, input);
  }
  return el("td", { class: "name" },
    el("span", { class: "run-name", text: job.name || job.id.slice(0, 8), title: modelSummary(job.spec) }),
    el("button", { type: "button", class: "icon rename-btn", title: "rename", "aria-label": `rename run ${job.id}`,
      text: "✎", onclick: () => store.update({ renaming: job.id }) }),
    el("code", { class: "run-id", text: job.id.slice(0, 8) }));
}

function actionsCell(job) {
  const { confirming } = store.get();
  const open = el("button", { type: "button", class: "icon", title: "open", "aria-label": `open run ${job.id}`, text: "Open", onclick: () => openJob(job.id) });
  if (ACTIVE.has(job.status)) {
    return el("td", { class: "actions" }, open,
      el("button", { type: "button", class: "icon danger", "aria-label": `cancel run ${job.id}`, text: "Cancel", onclick: () => act(api.cancelJob, job.id) }));
  }
  if (confirming === job.id) {   // delete asks first: the history and the model file go with it
    return el("td", { class: "actions confirming" },
      el("span", { class: "confirm-text", text: "delete run and model?" }),
      el("button", { type: "button", class: "icon danger", "aria-label": `confirm delete run ${job.id}`, text: "Delete", onclick: () => act(api.deleteJob, job.id) }),
      el("button", { type: "button", class: "icon", "aria-label": `keep run ${job.id}`, text: "Keep", onclick: () => store.update({ confirming: null }) }));
  }
  return el("td", { class: "actions" }, open,
    el("button", { type: "button", class: "icon danger", "aria-label": `delete run ${job.id}`, text: "Delete", onclick: () => store.update({ confirming: job.id }) }));
}

async function loadJobs() {
  try {
    const { items, total } = await api.listJobs({ limit: 200 });
    store.update({ items, total, error: "" });
  } catch (e) {
    store.update({ error: e.message });
  }
}

async function loadHistory(id, force = false) {
  const have = store.get().histories[id];
  if (have && !force) return have;
  const res = await api.getHistory(id);
  const epochs = res.epochs || res.history || res;
  store.update({ histories: { ...store.get().histories, [id]: epochs } });
  return epochs;
}

function renderTable() {
  const { selected, total, open, error, items } = store.get();
  const shown = visibleJobs();
  $("jobs-count").textContent = `${total} run${total === 1 ? "" : "s"}${shown.length < items.length ? `, ${shown.length} shown` : ""}`;
  $("jobs-error").textContent = error;
  $("compare").disabled = selected.length < 1;
  renderFilters();
  renderSortHeads();
  const body = $("jobs-table").querySelector("tbody");
  const rows = shown.map((job) => {
    const checked = selected.includes(job.id);
    const box = el("input", { type: "checkbox", "aria-label": `select run ${job.id}`, "data-job": job.id });
    box.checked = checked;
    box.addEventListener("change", () => toggleSelect(job.id, box.checked));
    const latest = job.latest || {};
    const rate = rateOf(job);
    return el("tr", { class: `${checked ? "selected" : ""}${open === job.id ? " open" : ""}`, "data-job": job.id },
      el("td", {}, box),
      nameCell(job),
      el("td", {}, el("span", { class: `status-badge ${job.status}`, text: job.status + (job.queue_position ? ` #${job.queue_position}` : "") })),
      el("td", { class: "wide", text: job.spec?.dataset?.name ?? "?" }),
      el("td", { class: "wide", text: optimizerOf(job) }),
      // epochs null: an open-ended Play run (until paused or cancelled); init_from: it continues another job
      el("td", { class: "num wide", title: job.init_from ? `continues job ${job.init_from.job_id}` : undefined,
        text: `${job.init_from ? "↳ " : ""}${job.epoch ?? 0}${job.epochs ? `/${job.epochs}` : ""}` }),
      el("td", { class: "num wide", text: rate === null ? "–" : String(rate) }),
      el("td", { class: "num", text: bestMetric(job) }),
      el("td", { class: "num wide", text: formatNumber(latest.test_loss) }),
      el("td", { class: "num wide", text: duration(job) }),
      actionsCell(job));
  });
  const empty = items.length ? "No run matches these filters." : "No runs yet: train something on the Playground or Digits page.";
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "11", class: "muted", text: empty }))]));
}

async function act(fn, id) {
  try {
    await fn(id);
  } catch (e) {
    store.update({ error: e.message });
  }
  if (fn === api.deleteJob) {
    const s = store.get();
    store.update({ selected: s.selected.filter((x) => x !== id), open: s.open === id ? null : s.open, confirming: null });
  }
  loadJobs();
}

async function toggleSelect(id, on) {
  const s = store.get();
  const selected = on ? [...new Set([...s.selected, id])] : s.selected.filter((x) => x !== id);
  store.update({ selected });
  if (on) {
    try { await loadHistory(id); } catch (e) { store.update({ error: e.message }); }
  }
}

// a spec as dotted paths -> values ("training.optimizer.learning_rate": 0.03), for the settings table
function flatten(value, prefix = "", out = {}) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.some((v) => v && typeof v === "object")) {
    value.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  } else {
    out[prefix] = value;
  }
  return out;
}

/** the settings of the selected runs, one row per path; only the differing ones unless `all` */
export function settingsRows(specs, all) {
  const flat = specs.map((spec) => flatten(spec));
  const paths = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const show = (v) => (v === undefined ? "–" : JSON.stringify(v));
  return paths.map((path) => ({ path, values: flat.map((f) => show(f[path])) }))
    .filter((row) => all || new Set(row.values).size > 1);
}

function renderSettings() {
  const { selected, items } = store.get();
  const jobs = selected.map((id) => items.find((j) => j.id === id)).filter(Boolean);
  const box = $("compare-settings");
  if (jobs.length < 2) {
    box.replaceChildren(el("p", { class: "muted", text: "select two runs to see how they differ" }));
    return;
  }
  const all = $("compare-all").checked;
  const rows = settingsRows(jobs.map((j) => j.spec), all);
  const head = el("tr", {}, el("th", { text: "setting" }),
    ...jobs.map((j, i) => el("th", {}, el("span", { class: "swatch", style: `border-top: 3px solid ${SERIES_COLORS[i % SERIES_COLORS.length]}` }), j.name || j.id.slice(0, 8))));
  const body = rows.map((r) => el("tr", { class: new Set(r.values).size > 1 ? "differs" : "" },
    el("td", {}, el("code", { text: r.path })), ...r.values.map((v) => el("td", { text: v }))));
  box.replaceChildren(rows.length
    ? el("table", { class: "settings-diff", id: "settings-diff", "data-rows": String(rows.length) }, el("thead", {}, head), el("tbody", {}, ...body))
    : el("p", { class: "muted", text: "these runs have the same settings" }));
}

function mountCompare() {
  const loss = createLineChart($("compare-loss"), { emptyText: "select runs to compare" });
  const metric = createLineChart($("compare-metric"), { emptyText: "" });
  const draw = () => {
    const { selected, histories, items } = store.get();
    const withTrain = $("compare-train").checked;
    const lossSeries = [];
    const metricSeries = [];
    const all = selected.map((id) => histories[id] || []);
    const m = metricName(all.flat());
    selected.forEach((id, i) => {
      const h = histories[id] || [];
      const job = items.find((j) => j.id === id);
      const name = job?.name || id.slice(0, 8);
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const series = (key, label, dash) => ({ label, color, dash, points: h.filter((r) => r[key] != null).map((r) => [r.epoch, r[key]]) });
      lossSeries.push(series("test_loss", withTrain ? `${name} (test)` : name));
      metricSeries.push(series(`test_${m}`, withTrain ? `${name} (test)` : name));
      if (withTrain) {   // the same colour, dashed: one run, two splits
        lossSeries.push(series("train_loss", `${name} (train)`, [5, 3]));
        metricSeries.push(series(`train_${m}`, `${name} (train)`, [5, 3]));
      }
    });
    const log = $("compare-log").checked;
    loss.set(lossSeries, { log });
    metric.set(metricSeries, m === "accuracy" ? { yMin: 0, yMax: 1 } : {});
    $("compare-loss-title").textContent = withTrain ? "loss (test solid, train dashed)" : "test loss";
    $("compare-metric-title").textContent = withTrain ? `${m} (test solid, train dashed)` : `test ${m}`;
    renderLegend($("compare-legend"), lossSeries);
    $("compare-hint").hidden = selected.length > 0;
    $("compare-loss").dataset.series = String(lossSeries.filter((x) => x.points.length).length);
    renderSettings();
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("selected" in patch || "histories" in patch || "items" in patch) request(); });
  for (const id of ["compare-log", "compare-train", "compare-all"]) $(id).addEventListener("change", request);
  $("compare").addEventListener("click", () => $("h-compare").scrollIntoView({ behavior: "smooth" }));
  request();
}

async function downloadSpec(job) {
  const spec = await api.getJobSpec(job.id);   // whole: job.spec may summarise big inline data
  const blob = new Blob([JSON.stringify(spec, null, 2)], { type: "application/json" });
  const a = el("a", { href: URL.createObjectURL(blob), download: `nnplay-${job.id}-spec.json` });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

async function openJob(id) {
  store.update({ open: id });
  history.replaceState(null, "", `/jobs/${encodeURIComponent(id)}`);
  try {
    const [job] = await Promise.all([api.getJob(id), loadHistory(id, true)]);
    const urls = api.downloadUrls(id);
    // a playground link carries the data itself: not for inline data the answer summarised (too big for a URL)
    const summarised = Object.values(job.spec?.dataset || {}).some((v) => v && v.omitted);
    const playground = job.spec?.dataset?.name && job.spec?.model?.input_shape?.length === 1 && !summarised;
    $("detail").replaceChildren(
      el("p", {}, el("strong", { text: job.name || `run ${id}` }), ` · ${id.slice(0, 8)}`, ` · ${job.status}${job.outcome && job.outcome !== job.status ? ` (${job.outcome})` : ""} · ${job.spec?.dataset?.name ?? ""} · ${job.n_params ? job.n_params.toLocaleString() + " parameters" : ""}`),
      job.message ? el("p", { class: job.outcome === "diverged" ? "error" : "muted", text: job.message }) : "",
      el("p", { class: "muted", text: modelSummary(job.spec) }),
      el("div", { class: "downloads" },
        job.has_model === false ? el("span", { class: "muted", text: "no model file yet" }) : el("a", { class: "button", href: urls.model, download: "", text: "⤓ model (.npz)" }),
        el("a", { class: "button", href: urls.csv, download: "", text: "⤓ history (.csv)" }),
        el("button", { type: "button", text: "⤓ spec (.json)", onclick: () => downloadSpec(job) }),
        playground ? el("a", { class: "button", href: `/#s=${specLink(job.spec)}`, text: "open in playground" }) : ""),
      el("details", {}, el("summary", { text: "spec" }), el("pre", { class: "spec", text: JSON.stringify(job.spec, null, 2) })));
    $("detail-charts").hidden = false;
  } catch (e) {
    $("detail").replaceChildren(el("p", { class: "error", text: e.message }));
  }
}

function specLink(spec) {
  const cfg = { dataset: spec.dataset, model: { layers: spec.model.layers, loss: spec.model.loss }, training: spec.training };
  return serialize(cfg, ["dataset", "model", "training"]);
}

function mountDetail() {
  const loss = createLineChart($("detail-loss"));
  const metric = createLineChart($("detail-metric"));
  const draw = () => {
    const { open, histories } = store.get();
    const h = (open && histories[open]) || [];
    const s = historySeries(h);
    loss.set(s.loss);
    metric.set(s.metric, s.metricLabel === "accuracy" ? { yMin: 0, yMax: 1 } : {});
    renderLegend($("detail-loss-legend"), s.loss);
    renderLegend($("detail-metric-legend"), s.metric);
    $("detail-metric-title").textContent = s.metricLabel;
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("open" in patch || "histories" in patch) request(); });
}

async function poll() {
  await loadJobs();
  const { items, selected, open } = store.get();
  // running runs: refresh their curves too
  for (const id of new Set([...selected, open].filter(Boolean))) {
    const job = items.find((j) => j.id === id);
    if (job && ACTIVE.has(job.status)) loadHistory(id, true).catch(() => {});
  }
  setTimeout(poll, items.some((j) => ACTIVE.has(j.status)) ? POLL_MS : POLL_MS * 3);
}

function init() {
  mountTokenBox();
  const requestTable = frameScheduler(renderTable);
  const tableKeys = ["items", "selected", "open", "error", "sort", "filters", "confirming", "renaming"];
  store.subscribe((_, patch) => {
    // while a name is being typed, polling must not rebuild the row under the cursor
    if (store.get().renaming && !("renaming" in patch)) return;
    if (tableKeys.some((k) => k in patch)) requestTable();
  });
  mountCompare();
  mountDetail();
  $("refresh").addEventListener("click", loadJobs);
  for (const th of document.querySelectorAll("#jobs-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const { sort } = store.get();
      const key = th.dataset.sort;
      // first click: names and words A-Z, numbers largest first; a second click turns it round
      const dir = sort.key === key ? -sort.dir : (["name", "status", "dataset", "optimizer"].includes(key) ? 1 : -1);
      store.update({ sort: { key, dir } });
    });
  }
  for (const input of document.querySelectorAll("#run-filters [data-filter]")) {
    input.addEventListener(input.tagName === "SELECT" ? "change" : "input", () => {
      store.update({ filters: { ...store.get().filters, [input.dataset.filter]: input.value } });
    });
  }
  const initial = $("jobs-root").dataset.jobId;
  poll().then(() => { document.body.dataset.ready = "true"; });
  if (initial) openJob(initial);
}

init();
