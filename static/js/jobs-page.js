// /jobs page: table of runs (cancel / delete), overlay of selected runs' curves, one run's history + downloads.
import * as api from "./api.js";
import { createStore, serialize } from "./state.js";
import { createLineChart, historySeries, metricName, renderLegend } from "./charts.js";
import { SERIES_COLORS, el, formatDuration, formatNumber, frameScheduler } from "./draw-util.js";
import { mountTokenBox } from "./auth.js";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["queued", "running", "paused"]);
const POLL_MS = 2000;

const store = createStore({ items: [], total: 0, selected: [], histories: {}, open: null, error: "" });

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
  if (!job.started_at) return "–";
  const end = job.finished_at || Date.now() / 1000;
  const secs = end - job.started_at;
  return secs < 10 ? `${Math.max(0.1, secs).toFixed(1)}s` : formatDuration(secs);
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
  const { items, selected, total, open, error } = store.get();
  $("jobs-count").textContent = `${total} run${total === 1 ? "" : "s"}`;
  $("jobs-error").textContent = error;
  $("compare").disabled = selected.length < 1;
  const body = $("jobs-table").querySelector("tbody");
  const rows = items.map((job) => {
    const checked = selected.includes(job.id);
    const box = el("input", { type: "checkbox", "aria-label": `select run ${job.id}`, "data-job": job.id });
    box.checked = checked;
    box.addEventListener("change", () => toggleSelect(job.id, box.checked));
    const actions = el("td", { class: "actions" },
      el("button", { type: "button", class: "icon", title: "open", "aria-label": `open run ${job.id}`, text: "Open", onclick: () => openJob(job.id) }),
      ACTIVE.has(job.status)
        ? el("button", { type: "button", class: "icon danger", "aria-label": `cancel run ${job.id}`, text: "Cancel", onclick: () => act(api.cancelJob, job.id) })
        : el("button", { type: "button", class: "icon danger", "aria-label": `delete run ${job.id}`, text: "Delete", onclick: () => act(api.deleteJob, job.id) }));
    const latest = job.latest || {};
    return el("tr", { class: `${checked ? "selected" : ""}${open === job.id ? " open" : ""}`, "data-job": job.id },
      el("td", {}, box),
      el("td", {}, el("code", { text: job.id.slice(0, 8) })),
      el("td", {}, el("span", { class: `status-badge ${job.status}`, text: job.status + (job.queue_position ? ` #${job.queue_position}` : "") })),
      el("td", { text: job.spec?.dataset?.name ?? "?" }),
      el("td", { class: "model", text: modelSummary(job.spec), title: modelSummary(job.spec) }),
      // epochs null: an open-ended Play run (until paused or cancelled); init_from: it continues another job
      el("td", { class: "num", title: job.init_from ? `continues job ${job.init_from.job_id}` : undefined,
        text: `${job.init_from ? "↳ " : ""}${job.epoch ?? 0}${job.epochs ? `/${job.epochs}` : ""}` }),
      el("td", { class: "num", text: bestMetric(job) }),
      el("td", { class: "num", text: formatNumber(latest.test_loss) }),
      el("td", { class: "num", text: duration(job) }),
      actions);
  });
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "10", class: "muted", text: "No runs yet: train something on the Playground or Digits page." }))]));
}

async function act(fn, id) {
  try {
    await fn(id);
  } catch (e) {
    store.update({ error: e.message });
  }
  if (fn === api.deleteJob) {
    const s = store.get();
    store.update({ selected: s.selected.filter((x) => x !== id), open: s.open === id ? null : s.open });
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

function mountCompare() {
  const loss = createLineChart($("compare-loss"), { emptyText: "select runs to compare" });
  const metric = createLineChart($("compare-metric"), { emptyText: "" });
  const draw = () => {
    const { selected, histories, items } = store.get();
    const lossSeries = [];
    const metricSeries = [];
    const all = selected.map((id) => histories[id] || []);
    const m = metricName(all.flat());
    selected.forEach((id, i) => {
      const h = histories[id] || [];
      const job = items.find((j) => j.id === id);
      const name = `${id.slice(0, 8)} ${job?.spec?.training?.optimizer?.name ?? ""}`.trim();
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      lossSeries.push({ label: name, color, points: h.filter((r) => r.test_loss != null).map((r) => [r.epoch, r.test_loss]) });
      metricSeries.push({ label: name, color, points: h.filter((r) => r[`test_${m}`] != null).map((r) => [r.epoch, r[`test_${m}`]]) });
    });
    const log = $("compare-log").checked;
    loss.set(lossSeries, { log });
    metric.set(metricSeries, m === "accuracy" ? { yMin: 0, yMax: 1 } : {});
    $("compare-metric-title").textContent = `test ${m}`;
    renderLegend($("compare-legend"), lossSeries);
    $("compare-hint").hidden = selected.length > 0;
    $("compare-loss").dataset.series = String(lossSeries.filter((s) => s.points.length).length);
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("selected" in patch || "histories" in patch || "items" in patch) request(); });
  $("compare-log").addEventListener("change", request);
  $("compare").addEventListener("click", () => $("h-compare").scrollIntoView({ behavior: "smooth" }));
  request();
}

function downloadSpec(job) {
  const blob = new Blob([JSON.stringify(job.spec, null, 2)], { type: "application/json" });
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
    const playground = job.spec?.dataset?.name && job.spec?.model?.input_shape?.length === 1;
    $("detail").replaceChildren(
      el("p", {}, el("strong", { text: `run ${id}` }), ` · ${job.status}${job.outcome && job.outcome !== job.status ? ` (${job.outcome})` : ""} · ${job.spec?.dataset?.name ?? ""} · ${job.n_params ? job.n_params.toLocaleString() + " parameters" : ""}`),
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
  store.subscribe((_, patch) => { if ("items" in patch || "selected" in patch || "open" in patch || "error" in patch) requestTable(); });
  mountCompare();
  mountDetail();
  $("refresh").addEventListener("click", loadJobs);
  const initial = $("jobs-root").dataset.jobId;
  poll().then(() => { document.body.dataset.ready = "true"; });
  if (initial) openJob(initial);
}

init();
