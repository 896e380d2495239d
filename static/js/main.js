// playground page: wires state, api and views together (no drawing or fetching logic of its own).
import * as api from "./api.js";
import { createStore, readUrl, shareUrl, writeUrl } from "./state.js";
import { mountHeatmap } from "./heatmap.js";
import { createLineChart, historySeries, renderLegend } from "./charts.js";
import { mountNetworkView } from "./network-view.js";
import { mountHistograms } from "./histograms.js";
import { mountGradNorms } from "./gradnorms.js";
import { isKnn, modelSpec, mountBuilder, summaryKey } from "./builder.js";
import { mountKnnPanel } from "./knn-view.js";
import { createSummarizer } from "./summary.js";
import { defaultTraining, mountControls } from "./controls.js";
import { defaultDataset, mountDataPanel, paintPoint, playgroundDatasets } from "./datapanel.js";
import { createRunner, emptyResults } from "./runner.js";
import { familyParams, paramDefaults } from "./forms.js";
import { formatNumber, frameScheduler } from "./draw-util.js";
import { mountTokenBox } from "./auth.js";
import { mountQuickControls, mountQuickData } from "./quick-controls.js";
import { applyLesson, readLesson } from "./lesson-mode.js";
import { mountPresets } from "./presets.js";
import { mountHiddenSpace } from "./hidden-space.js";

const URL_KEYS = ["dataset", "model", "training", "view"];
const DEFAULT_VIEW = { discretize: false, showTest: true, logScale: false, smoothing: 0 };
const $ = (id) => document.getElementById(id);

const store = createStore({
  catalog: null, dataset: null, model: null, training: null, view: { ...DEFAULT_VIEW },
  ui: { ...DEFAULT_VIEW, paint: false, paintClass: 0 },
  stream: null,
  preview: null, previewError: "", previewNote: "", connection: "", summary: null, builderNotes: [], ...emptyResults(),
  features: null, hover: null,
});

// the starting experiment (TensorFlow Playground's): two hidden tanh layers; every other option is the
// catalog's default, and the output layer + loss are the engine's suggestion for the dataset (first summary)
const START_HIDDEN = { units: 8, activation: "tanh" };
const START_LEARNING_RATE = 0.03;   // TensorFlow Playground's; the catalog's adam default (1e-3) is slow to watch
const START_EPOCHS = null;          // Play runs until paused (capped by the catalog's limits.max_epochs)
// paced so a class can watch it learn: 250 epochs take about 5 s, with a frame every few epochs
const STREAM_PACE = { max_fps: 12, max_epochs_per_second: 50 };

function startTraining(catalog) {
  const t = defaultTraining(catalog);
  return { ...t, epochs: START_EPOCHS, optimizer: { ...t.optimizer, learning_rate: START_LEARNING_RATE } };
}

function defaultModel(catalog) {
  const dense = { type: "dense", ...paramDefaults(familyParams(catalog.layers, "dense")) };
  return { layers: [{ ...dense, ...START_HIDDEN }, { ...dense, ...START_HIDDEN }, dense],
           loss: Object.keys(catalog.losses)[0] };
}

function buildSpec() {
  const s = store.get();
  // no input_shape: the engine takes it from the dataset (features, or the columns of inline data)
  return { dataset: s.dataset, model: modelSpec(s.model), training: s.training, stream: s.stream };
}

const runner = createRunner(store, { buildSpec });
let summarizer = null;   // created once the page knows whether the model came from a share link

// ---- preview: points of the current dataset, asked for once the engine's summary of that dataset says
// it is 2-D point data (summary.features); other data (a 4-column CSV) trains without a plot
let previewFor = null;   // the dataset (JSON) last previewed
let previewSeq = 0;
function previewFromSummary() {
  const { dataset, model, summary } = store.get();
  if (!summary || summary.for !== summaryKey(model, dataset)) return;   // an edit is on its way
  const key = JSON.stringify(dataset);
  if (key === previewFor) return;
  previewFor = key;
  const seq = ++previewSeq;
  if (dataset.x && !dataset.x.length) { // "clear points": an empty canvas to paint on
    store.update({ preview: { points_train: [], labels_train: [], points_test: [], labels_test: [],
      domain: [[-6, 6], [-6, 6]], task: "classification", n_classes: Math.max(2, dataset.n_classes || 2) }, previewError: "", previewKey: key });
    return;
  }
  if (!summary.features) {
    const dataErrors = summary.errors.filter((e) => e.path.startsWith("dataset")).map((e) => `${e.path}: ${e.message}`);
    const width = summary.input_shape ? summary.input_shape.join("×") : "?";
    store.update({ preview: null, boundary: null, features: null, previewKey: key, previewError: dataErrors.length ? `Cannot show this dataset: ${dataErrors.join("; ")}` : "",
      previewNote: dataErrors.length ? "" : `The plot shows 2-D points; this data has ${width} inputs, so it trains without one.` });
    return;
  }
  api.previewDataset(dataset).then((preview) => {
    if (seq === previewSeq) { store.update({ preview, previewError: "", previewNote: "", previewKey: key }); scheduleModelPreview(); }
  }, (e) => {
    if (seq === previewSeq) store.update({ previewError: `Cannot show this dataset: ${e.message}` });
  });
}
store.subscribe((_, patch) => { if ("summary" in patch) { previewFromSummary(); scheduleModelPreview(); } });

// ---- the untrained network (POST /api/models/preview: the trainer's epoch-0 frame), drawn while no run is
// on screen: at load, after Reset and after every change of data, architecture or seed
let modelPreviewTimer = null;
let modelPreviewSeq = 0;
function scheduleModelPreview() {
  clearTimeout(modelPreviewTimer);
  modelPreviewTimer = setTimeout(async () => {
    const { model, dataset, summary, run, previewKey } = store.get();
    // after the points of this dataset are on screen: the plot changes points first, then the boundary
    if (previewKey !== JSON.stringify(dataset)) return;
    if (run.job_id || !summary || summary.for !== summaryKey(model, dataset) || summary.errors.length || !summary.features) return;
    const seq = ++modelPreviewSeq;
    const spec = buildSpec();
    try {
      const p = await api.previewModel({ dataset: spec.dataset, model: spec.model, training: spec.training,
        stream: { ...spec.stream, max_epochs_per_second: null } });
      if (seq !== modelPreviewSeq || store.get().run.job_id) return;
      store.update({ boundary: p.boundary ? { ...p.boundary, seq: `preview${seq}` } : null, weights: p.weights, features: p.features,
        previewScores: p.scores ? { ...p.scores, k: spec.model.k, metric: spec.model.metric } : null });
      document.body.dataset.preview = String(seq);
    } catch { /* the summary already lists what is wrong with the spec */ }
  }, 60);
}

// ---- config edits: a change (other than the learning rate) resets a running job
function changeConfig(patch) {
  if (runner.isActive()) runner.reset();
  else { const { boundary, weights } = store.get(); store.update({ ...emptyResults(), boundary, weights }); }
  store.update({ ...patch, ...("model" in patch ? { builderNotes: [] } : {}) });
  writeUrl(store.get(), URL_KEYS);
  if ("dataset" in patch || "model" in patch) summarizer.schedule();
  else scheduleModelPreview();
}

// a typed weight: into the running model (set_weight), else into the starting weights (the layer's explicit
// weights, which the preview then draws and Play starts from)
function editWeight(key, index, value) {
  if (runner.setWeight(key, index, value)) return;
  const { model, weights } = store.get();
  const [layerIndex, name] = key.split(".");
  const i = Number(layerIndex);
  const W = structuredClone(weights?.[`${i}.W`]);
  const b = structuredClone(weights?.[`${i}.b`]);
  if (!W) return;
  if (name === "W") W[index[0]][index[1]] = value; else if (b) b[index[0]] = value;
  const layer = { ...model.layers[i], weights: b ? { W, b } : { W } };
  changeConfig({ model: { ...model, layers: model.layers.map((l, j) => (j === i ? layer : l)) } });
}

function setUi(patch) {
  const ui = { ...store.get().ui, ...patch };
  const view = { discretize: ui.discretize, showTest: ui.showTest, logScale: ui.logScale, smoothing: ui.smoothing };
  store.update({ ui, view });
  writeUrl(store.get(), URL_KEYS);
}

/** lesson: readLesson()'s {hide}; a hidden dataset also locks the diagram's input toggles (they edit dataset.features) */
function mountViews(lesson = { hide: [] }) {
  mountHeatmap($("heatmap"), store, {
    onPlotClick: (x, y) => {
      if (!store.get().ui.paint) return;
      const ds = paintPoint(store, x, y);
      if (ds) changeConfig({ dataset: ds });
    },
  });
  mountHiddenSpace($("hidden-space"), store, {
    onLayer: (layer) => changeConfig({ stream: { ...store.get().stream, hidden_layer: layer, hidden_units: null } }),
  });
  mountDataPanel($("data-panel"), store, { onChange: (dataset) => changeConfig({ dataset }), onUi: setUi });
  // a k-NN has no hidden layer to show the space of: choosing one turns the hidden-space view off
  const setModel = (model) => changeConfig({ model, ...(isKnn(model) ? { stream: { ...store.get().stream, hidden_layer: null, hidden_units: null } } : {}) });
  mountBuilder($("builder"), store, { onChange: setModel, baselines: true });
  mountKnnPanel($("knn-panel"), store, { onChange: setModel });
  mountControls($("controls"), store, {
    onChange: (training) => {
      const old = store.get().training;
      const onlyLr = JSON.stringify({ ...old, optimizer: { ...old.optimizer, learning_rate: 0 } })
        === JSON.stringify({ ...training, optimizer: { ...training.optimizer, learning_rate: 0 } });
      if (onlyLr && runner.isActive()) { store.update({ training }); writeUrl(store.get(), URL_KEYS); }
      else changeConfig({ training });
    },
    onLearningRate: (lr) => runner.setLearningRate(lr),
  });
  mountNetworkView($("network"), store, {
    onModel: (model) => changeConfig({ model }),
    onFeatures: lesson.hide.includes("dataset") ? null
      : (features) => changeConfig({ dataset: { ...store.get().dataset, features } }),
    onWeight: editWeight,
    onHover: (hover) => store.update({ hover }),
  });
  mountQuickControls($("quick-controls"), store, {
    // learning rate, penalties and batch size reach a running job as a `set`; other changes reset
    onTraining: (training, live) => {
      if (runner.isActive()) { store.update({ training }); runner.setOptions(live); writeUrl(store.get(), URL_KEYS); }
      else changeConfig({ training });
    },
    onSpeed: (pace) => {
      store.update({ stream: { ...store.get().stream, max_epochs_per_second: pace } });
      const max = (store.get().catalog.stream || []).find?.((p) => p.name === "max_epochs_per_second")?.max ?? 100000;
      runner.setOptions({ max_epochs_per_second: pace ?? max });
    },
  });
  mountQuickData($("data-quick"), store, { onChange: (dataset) => changeConfig({ dataset }) });
  mountPresets($("presets"), store, { onApply: (patch) => { changeConfig(patch); } });
  mountHistograms($("histograms"), store);
  mountGradNorms($("gradnorms"), $("gradnorms-legend"), store);

  const loss = createLineChart($("loss-chart"), { emptyText: "press Play to train" });
  const metric = createLineChart($("metric-chart"), { emptyText: "" });
  const lrChart = createLineChart($("lr-chart"), { emptyText: "", yTicks: 2 });
  const updateCharts = () => {
    const { history, ui, run } = store.get();
    const series = historySeries(history);
    // a queued job says so where the curve will be, not "press Play" (the status message's queue_position)
    const emptyText = run.status === "queued" ? queuedText(run) : "press Play to train";
    $("loss-chart").dataset.emptyText = emptyText;
    loss.set(series.loss, { log: ui.logScale, smoothing: ui.smoothing, emptyText });
    metric.set(series.metric, { smoothing: ui.smoothing, yMin: series.metricLabel === "accuracy" ? 0 : undefined, yMax: series.metricLabel === "accuracy" ? 1 : undefined });
    renderLegend($("loss-legend"), series.loss);
    lrChart.set([{ label: "learning rate", color: "#555", points: history.filter((h) => h.learning_rate != null).map((h) => [h.epoch, h.learning_rate]) }], { yTicks: 2 });
    renderLegend($("metric-legend"), series.metric);
    $("metric-title").textContent = series.metricLabel;
  };
  const requestCharts = frameScheduler(updateCharts);
  store.subscribe((_, patch) => { if ("history" in patch || "ui" in patch || "run" in patch) requestCharts(); });
  requestCharts();
}

/** "queued (#2)": the run's place in the server's queue, from its status message */
const queuedText = (run) => `queued${run.queue_position ? ` (#${run.queue_position})` : ""}`;

/** 198000 -> "198k", 1234567 -> "1.23M": readable from the back of a lecture hall */
function compactCount(v) {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Math.round(v));
}

// ---- header stats and buttons
function mountStats() {
  const draw = () => {
    const { history, run, ui } = store.get();
    const last = history[history.length - 1] || {};
    const metric = "test_r2" in last ? "r2" : "accuracy";
    $("stat-epoch").textContent = `${String(run.epoch || 0).padStart(4, "0")}${run.epochs ? ` / ${run.epochs}` : ""}`;
    const b = run.batch;   // from the trainer's batch event after a +1 batch
    $("stat-batch").textContent = run.status === "queued" ? queuedText(run)
      : b ? `epoch ${b.epoch} · batch ${b.batch}/${b.batches}` : "";
    $("stat-speed").textContent = run.examples_per_second ? `${compactCount(run.examples_per_second)}/s` : "–";
    $("stat-train-loss").textContent = formatNumber(last.train_loss);
    $("stat-test-loss").textContent = formatNumber(last.test_loss);
    $("stat-lr").textContent = formatNumber(run.learning_rate ?? last.learning_rate);
    $("stat-test-metric").textContent = formatNumber(last[`test_${metric}`]);
    $("stat-metric-label").textContent = `test ${metric}`;
    $("stat-status").textContent = run.status + (run.queue_position ? ` (#${run.queue_position} in queue)` : "");
    document.body.dataset.runStatus = run.status;
    const msg = $("run-message");
    msg.textContent = run.message || "";
    msg.className = `run-message${run.outcome === "diverged" || run.status === "failed" || run.status === "invalid" ? " bad" : ""}`;
    const playing = ["running", "starting", "queued"].includes(run.status);
    $("play").textContent = playing ? "Pause" : "Play";
    $("play").setAttribute("aria-label", playing ? "pause training" : "play");
    $("play").classList.toggle("playing", playing);
    $("discretize").checked = ui.discretize;
    $("show-test").checked = ui.showTest;
    $("log-scale").checked = ui.logScale;
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("history" in patch || "run" in patch || "ui" in patch) request(); });
  request();

  $("play").addEventListener("click", () => {
    const playing = ["running", "starting", "queued"].includes(store.get().run.status);
    if (playing) runner.pause(); else runner.play();
  });
  $("step").addEventListener("click", () => runner.step());
  $("settings-toggle").addEventListener("click", (e) => {
    const open = document.querySelector(".runbar").classList.toggle("settings-open");
    e.target.setAttribute("aria-expanded", String(open));
  });
  $("step-batch").addEventListener("click", () => runner.stepBatch());
  $("reset").addEventListener("click", async () => { await runner.reset(); scheduleModelPreview(); });
  $("discretize").addEventListener("change", (e) => setUi({ discretize: e.target.checked }));
  $("show-test").addEventListener("change", (e) => setUi({ showTest: e.target.checked }));
  $("log-scale").addEventListener("change", (e) => setUi({ logScale: e.target.checked }));
  $("smoothing").addEventListener("input", (e) => setUi({ smoothing: Number(e.target.value) }));
  $("share").addEventListener("click", async () => {
    const url = shareUrl(store.get(), URL_KEYS);
    $("share-url").value = url;
    $("share-url").hidden = false;
    $("share-url").select();
    try { await navigator.clipboard.writeText(url); $("share").textContent = "Link copied"; } catch { $("share").textContent = "Copy the link"; }
    setTimeout(() => { $("share").textContent = "Share link"; }, 2000);
  });
}

async function init() {
  mountTokenBox();
  // a run refused for want of a token: clear its message once a token is given
  window.addEventListener("nnplay:token-saved", () => {
    if (store.get().run.status === "invalid") store.update({ run: { ...store.get().run, status: "idle", message: "" } });
  });
  let catalog;
  try {
    catalog = await api.getCatalog();
  } catch (e) {
    $("run-message").textContent = `Cannot reach the server: ${e.message}`;
    return;
  }
  const saved = readUrl() || {};
  const lesson = readLesson();
  const first = playgroundDatasets(catalog).find((o) => o.value === "spiral")?.value ?? playgroundDatasets(catalog)[0].value;
  const dataset = saved.dataset || defaultDataset(catalog, first);
  const view = { ...DEFAULT_VIEW, ...(saved.view || {}) };
  store.update({
    catalog, dataset, view, ui: { ...store.get().ui, ...view },
    stream: { ...paramDefaults(catalog.stream), ...STREAM_PACE },
    model: saved.model || defaultModel(catalog),
    training: saved.training || startTraining(catalog),
  });
  summarizer = createSummarizer(store, {
    fresh: !saved.model,
    onModel: (model) => { store.update({ model }); writeUrl(store.get(), URL_KEYS); },
  });
  $("smoothing").value = String(view.smoothing);
  mountViews(lesson);
  mountStats();
  applyLesson(lesson);
  summarizer.schedule();
  writeUrl(store.get(), URL_KEYS);
  document.body.dataset.ready = "true";
}

init();
