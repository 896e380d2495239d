// /digits page: wires the drawing pad, predictions, the model chooser and "train your own" together.
import * as api from "./api.js";
import { createStore } from "./state.js";
import { drawInk, inkToDataUrl, mountDrawpad } from "./drawpad.js";
import { createLineChart, historySeries, renderLegend } from "./charts.js";
import { mountHistograms } from "./histograms.js";
import { isKnn, modelSpec, mountBuilder } from "./builder.js";
import { createSummarizer } from "./summary.js";
import { defaultTraining, mountControls } from "./controls.js";
import { createRunner, emptyResults } from "./runner.js";
import { familyParams, paramDefaults, paramFields } from "./forms.js";
import { imageRows, renderConfusion, renderFilters, renderGallery } from "./evaluation.js";
import { CLASS_COLORS, fitCanvas, formatDuration, frameScheduler, watchSize } from "./draw-util.js";
import { mountTokenBox } from "./auth.js";
import { mountFinetune } from "./digits-finetune.js";

const $ = (id) => document.getElementById(id);
const DIGIT_DATASET = "mnist";
const KNN_CHOICE = "knn";   // a "start from" entry that is a k-NN model, not a layer list

const store = createStore({
  catalog: null, dataset: null, model: null, training: null,
  preview: { task: "classification", n_classes: 10 },
  stream: { boundary: false, histograms: true, bins: 30, max_fps: 4 },
  reading: null, summary: null, builderNotes: [], ...emptyResults(),
});

// ---- reading a drawing
let predictSeq = 0;
let predictTimer = null;

async function predict(body) {
  const seq = ++predictSeq;
  const jobId = $("model-choice").value || undefined;
  try {
    const res = await api.predictDigit({ ...body, job_id: jobId });
    if (seq !== predictSeq) return;
    store.update({ reading: res });
    $("predict-error").textContent = "";
  } catch (e) {
    if (seq !== predictSeq) return;
    store.update({ reading: null });
    if (e.status === 503 && !jobId) {
      defaultMissing = true;
      $("predict-error").textContent = "The shipped digit model is not installed on this server: train one below "
        + "(a minute is enough), then pick it under “model”.";
      refreshModels();
      return;
    }
    $("predict-error").textContent = /empty/.test(e.message) ? "" : e.message;
  }
}
let defaultMissing = false;

function onStrokes(strokes, { final }) {
  clearTimeout(predictTimer);
  showSample(null);
  if (!strokes.length || strokes.every((s) => s.length < 2)) {
    if (!strokes.length) { predictSeq++; store.update({ reading: null }); }
    return;
  }
  const send = () => predict({ strokes: strokes.map((s) => s.slice()) });
  if (final) send(); else predictTimer = setTimeout(send, 120); // debounced while drawing
}

function drawProbabilities(canvas, reading) {
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  const probs = reading?.probabilities || new Array(10).fill(0);
  const top = 22, bottom = 24;
  const ph = height - top - bottom;
  const bw = width / probs.length;
  ctx.strokeStyle = "#d9dde4";
  ctx.beginPath(); ctx.moveTo(0, top + ph + 0.5); ctx.lineTo(width, top + ph + 0.5); ctx.stroke();
  ctx.textAlign = "center";
  probs.forEach((p, k) => {
    const h = ph * p;
    const x = k * bw + bw * 0.15;
    ctx.fillStyle = "#eef1f5";
    ctx.fillRect(x, top, bw * 0.7, ph);             // the track: every digit has a visible slot
    ctx.fillStyle = reading && k === reading.label ? CLASS_COLORS[1] : "#8d99ad";
    ctx.fillRect(x, top + ph - h, bw * 0.7, h);
    ctx.fillStyle = reading && k === reading.label ? "#0b1320" : "#3a4354";
    ctx.font = `${reading && k === reading.label ? 700 : 500} 15px system-ui, sans-serif`;
    ctx.fillText(String(k), k * bw + bw / 2, height - 6);
    if (reading && p >= 0.01) {
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = "#3a4354";
      ctx.fillText(`${Math.round(p * 100)}%`, k * bw + bw / 2, Math.max(14, top + ph - h - 5));
    }
  });
  if (!reading) {
    ctx.fillStyle = "#5b6475";
    ctx.font = "14px system-ui, sans-serif";
    ctx.fillText("draw a digit, or try a test digit", width / 2, top + ph / 2);
  }
}

function mountReading() {
  const draw = () => {
    const r = store.get().reading;
    const pred = $("prediction");
    pred.textContent = r ? String(r.label) : "?";
    pred.dataset.label = r ? String(r.label) : "";
    pred.classList.toggle("empty", !r);
    const confidence = r ? r.probabilities[r.label] : null;
    $("prediction-note").textContent = r ? `${Math.round(confidence * 100)}% sure` : "no digit yet";
    const seen = $("seen");
    seen.classList.toggle("empty", !r?.input);
    if (r?.input) drawInk(seen, r.input);
    else { seen.width = 28; seen.height = 28; seen.getContext("2d").clearRect(0, 0, 28, 28); }
    drawProbabilities($("probs"), r);
    const truth = $("sample-info").dataset.label;
    const verdict = $("sample-verdict");
    const right = r && String(r.label) === truth;
    verdict.textContent = r && truth ? (right ? "✓ read correctly" : "✗ misread") : "";
    verdict.className = r && truth ? (right ? "good" : "bad") : "";
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("reading" in patch) request(); });
  watchSize($("probs"), request);
  request();
}

/** the test digit on the pad (or none): its index and true label, shown beside the reading */
function showSample(sample) {
  const info = $("sample-info");
  info.dataset.label = sample ? String(sample.label) : "";
  info.textContent = sample ? `MNIST test image #${sample.index} · true label ${sample.label}` : "";
}

/** the model list: the shipped model and every running or finished MNIST job; `select` picks one of them */
async function refreshModels(select) {
  const sel = $("model-choice");
  try {
    const { items } = await api.listJobs({ limit: 100 });
    const keep = sel.value;
    const mnist = items.filter((j) => j.spec?.dataset?.name === DIGIT_DATASET && ["running", "completed", "paused"].includes(j.status));
    sel.replaceChildren(new Option(defaultMissing ? "default (not installed)" : "default (shipped)", ""),
      ...mnist.map((j) => new Option(`job ${j.id.slice(0, 8)} · ${j.status}${j.latest?.test_accuracy !== undefined ? ` · ${(j.latest.test_accuracy * 100).toFixed(1)}%` : ""}`, j.id)));
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
    const finished = mnist.find((j) => j.status === "completed");
    if (select && [...sel.options].some((o) => o.value === select)) {
      sel.value = select;
      $("predict-error").textContent = "";
      rereadPad();
    } else if (defaultMissing && !sel.value && finished) {
      sel.value = finished.id;
      $("predict-error").textContent = "";
      rereadPad();
    }
  } catch { /* the default model still works */ }
}

// ---- train your own
function presets(catalog) {
  const dense = (units, activation) => ({ type: "dense", ...paramDefaults(familyParams(catalog.layers, "dense")), units, activation });
  // the output layer is a placeholder: the engine's summary suggests the one that fits MNIST
  const out = { type: "dense", ...paramDefaults(familyParams(catalog.layers, "dense")) };
  const list = {
    "dense network (784-128-10)": [{ type: "flatten" }, dense(128, "relu"), out],
    // the baselines a network must beat (issue 15): one dense layer on the pixels, and no training at all
    // zero start: pixels that are always blank (the border) keep a zero weight, so each template shows its digit
    "linear classifier (784-10)": [{ type: "flatten" }, { ...out, kernel_initializer: "zeros" }],
    "k-nearest neighbours (no training)": KNN_CHOICE,
  };
  if (catalog.layers.conv2d) {
    const conv = (filters) => ({ type: "conv2d", ...paramDefaults(familyParams(catalog.layers, "conv2d")), filters, padding: "same", activation: "relu", kernel_initializer: "he_uniform" });
    const pool = catalog.layers.maxpool2d ? [{ type: "maxpool2d", ...paramDefaults(familyParams(catalog.layers, "maxpool2d")) }] : [];
    list["small CNN (conv-pool-dense)"] = [conv(8), ...pool, { type: "flatten" }, dense(64, "relu"), out];
  }
  return list;
}

function buildSpec() {
  const s = store.get();
  return {
    dataset: s.dataset,
    model: modelSpec(s.model),   // input shape: the engine's, from the dataset
    training: s.training,
    stream: s.stream,
  };
}

function mountTraining(catalog) {
  const runner = createRunner(store, { buildSpec });
  const choices = presets(catalog);
  const presetSel = $("preset");
  presetSel.replaceChildren(...Object.keys(choices).map((k) => new Option(k, k)));
  const summarizer = createSummarizer(store, { fresh: true, onModel: (model) => store.update({ model }) });
  const setModel = (model) => { store.update({ model, builderNotes: [] }); summarizer.schedule(); };
  let network = store.get().model;   // the last network: its fitted output layer outlives a k-NN
  presetSel.addEventListener("change", () => {
    const choice = choices[presetSel.value];
    if (!isKnn(store.get().model)) network = store.get().model;
    if (choice === KNN_CHOICE) { setModel({ type: "knn", ...paramDefaults(catalog.knn) }); return; }
    // a preset replaces the hidden layers; the fitted output stays, started as the preset starts it
    const { layers } = network;
    const out = { ...layers[layers.length - 1], kernel_initializer: choice[choice.length - 1].kernel_initializer };
    setModel({ ...network, layers: [...choice.slice(0, -1), out] });
  });
  mountBuilder($("digit-builder"), store, { onChange: setModel, imageLayers: true });
  summarizer.schedule();
  mountControls($("digit-controls"), store, { onChange: (training) => store.update({ training }), onLearningRate: (lr) => runner.setLearningRate(lr) });
  $("limit").addEventListener("change", (e) => {
    const v = Number.parseInt(e.target.value, 10);
    if (Number.isFinite(v) && v > 0) { store.update({ dataset: { ...store.get().dataset, limit: v } }); summarizer.schedule(); }
  });
  const augParams = Array.isArray(catalog.augmentation) ? catalog.augmentation : catalog.augmentation?.params || [];
  const renderAug = () => {
    const aug = store.get().training.augmentation;
    $("augment").checked = Boolean(aug);
    $("augment-fields").replaceChildren(aug ? paramFields(augParams, aug, (v) => store.update({ training: { ...store.get().training, augmentation: v } }), { compact: true }) : "");
  };
  $("augment").disabled = !augParams.length;
  $("augment").addEventListener("change", (e) => {
    store.update({ training: { ...store.get().training, augmentation: e.target.checked ? paramDefaults(augParams) : null } });
    renderAug();
  });
  renderAug();

  $("train").addEventListener("click", async () => {
    for (const id of ["confusion", "gallery"]) {
      $(id).replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: "appears when training ends" }));
    }
    await summarizer.settled();         // the output layer the engine fits to MNIST, not the placeholder
    await runner.play();
    refreshModels();
  });
  $("cancel-train").addEventListener("click", () => runner.reset());

  const loss = createLineChart($("digit-loss"), { emptyText: "press Train" });
  const acc = createLineChart($("digit-acc"), { emptyText: "" });
  mountHistograms($("digit-histograms"), store);
  let evaluatedFor = null;
  const draw = () => {
    const { history, run } = store.get();
    const series = historySeries(history);
    loss.set(series.loss);
    acc.set(series.metric, { yMin: 0, yMax: 1 });
    renderLegend($("digit-loss-legend"), series.loss);
    renderLegend($("digit-acc-legend"), series.metric);
    const frac = run.epochs ? Math.min(1, (run.epoch || 0) / run.epochs) : 0;
    $("progress-bar").style.width = `${(frac * 100).toFixed(1)}%`;
    const secs = history.map((h) => h.seconds).filter(Number.isFinite);
    const per = secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null;
    const left = per && run.epochs ? (run.epochs - (run.epoch || 0)) * per : null;
    $("eta").textContent = run.status === "running" && left !== null ? `epoch ${run.epoch} / ${run.epochs} · about ${formatDuration(left)} left` : (run.message || "\u00a0");
    $("train-status").textContent = run.status === "idle" ? "" : run.status;
    $("train").disabled = ["running", "starting", "queued", "paused"].includes(run.status);
    $("baseline-result").textContent = resultText(store.get().model, history, run);
    if (run.status === "completed" && run.job_id && evaluatedFor !== run.job_id) {
      evaluatedFor = run.job_id;
      showTemplates(run.job_id);
      showEvaluation(run.job_id);
      refreshModels(run.job_id);   // the model just trained reads the pad from now on
      finetune?.refresh();         // and can be started from
    }
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("history" in patch || "run" in patch) request(); });
  request();
}

/** 0.064 -> "64 ms", 2.3 -> "2.3 s" (formatDuration rounds to whole seconds) */
const shortSeconds = (v) => (v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`);

/** one line a student compares across models: test accuracy, and for a k-NN what the lesson is about (no
 training, slow prediction: the engine's CPU seconds per test image) */
function resultText(model, history, run) {
  const last = history[history.length - 1];
  if (!last || last.test_accuracy === undefined) return "";
  const acc = `test accuracy ${(last.test_accuracy * 100).toFixed(2)}%`;
  if (isKnn(model) && last.test_seconds_per_prediction !== undefined) {
    return `k-NN (k = ${model.k}, ${model.metric}): ${acc} · no training (fit ${shortSeconds(last.fit_seconds)}: `
      + `it stores the images) · ${(last.test_seconds_per_prediction * 1000).toFixed(2)} ms per test image (CPU)`;
  }
  const secs = history.map((h) => h.seconds).filter(Number.isFinite).reduce((a, b) => a + b, 0);
  return `${acc} after epoch ${last.epoch}${secs ? ` · trained ${formatDuration(secs)}` : ""}${run.status === "completed" ? "" : " (so far)"}`;
}

/** a model whose only weighted layer is its output (the linear classifier) is drawn as its ten class
 * templates under the curves: the engine says which (first-layer `classes`); anything else hides the block */
async function showTemplates(jobId) {
  const box = $("linear-templates");
  box.hidden = true;
  if (isKnn(store.get().model)) return;   // no weights at all
  try {
    const layer = await api.getFirstLayer(jobId);
    box.hidden = !layer.classes;
    if (!layer.classes) return;
    renderFilters($("linear-templates-grid"), layer, layer.classes);
  } catch { box.hidden = true; }
}

/** the chosen model's first layer as pictures, while the drawer is open */
async function showFirstLayer() {
  if (!$("first-layer").open) return;
  const jobId = $("model-choice").value || undefined;
  const grid = $("first-layer-grid");
  try {
    const layer = await api.getFirstLayer(jobId);
    renderFilters(grid, layer);
    const what = layer.type === "conv2d" ? `${layer.count} conv filters, ${layer.height}×${layer.width}`
      : `${layer.count} dense units, each a ${layer.height}×${layer.width} template`;
    $("first-layer-note").textContent = `layer ${layer.layer + 1}: ${what}${layer.images.length < layer.count ? ` (first ${layer.images.length})` : ""}` +
      " · orange: positive weight (ink there excites the unit), blue: negative, white: zero";
    grid.dataset.type = layer.type;
  } catch (e) {
    grid.replaceChildren();
    $("first-layer-note").textContent = e.message;
  }
}

/** the test digits behind one confusion cell, under the matrix */
async function showCell(jobId, label, predicted, td) {
  for (const cell of document.querySelectorAll("#confusion td.picked")) cell.classList.remove("picked");
  td.classList.add("picked");
  const box = $("cell-digits");
  box.hidden = false;
  try {
    const cell = await api.getEvaluationCell(jobId, label, predicted);
    const what = label === predicted ? `${label} read correctly` : `${label} read as ${predicted}`;
    $("cell-title").textContent = `true ${what}: ${cell.count} test digit${cell.count === 1 ? "" : "s"}` +
      (cell.examples.length < cell.count ? ` (the ${cell.examples.length} most confident shown)` : "");
    renderGallery($("cell-gallery"), cell.examples);
    box.dataset.cell = `${label},${predicted}`;
  } catch (e) {
    $("cell-title").textContent = e.message;
  }
}

async function showEvaluation(jobId) {
  $("confusion").replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: "evaluating on the test set…" }));
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const ev = await api.getEvaluation(jobId);
      renderConfusion($("confusion"), ev.confusion, ev.class_names, ev, (label, predicted, td) => showCell(jobId, label, predicted, td));
      renderGallery($("gallery"), ev.misread || []);
      return;
    } catch (e) {
      // 409: the final model file is still being written
      if (e.status === 409 && attempt < 19) { await new Promise((ok) => setTimeout(ok, 250)); continue; }
      $("confusion").replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: e.message }));
      return;
    }
  }
}

let pad = null;
let finetune = null;
let sampleRows = null;

/** read what is on the pad again (after the model changed) */
function rereadPad() {
  if (!pad) return;
  if (pad.showingImage() && sampleRows) { predict({ image: inkToDataUrl(sampleRows) }); return; }
  const strokes = pad.strokes();
  if (strokes.length) onStrokes(strokes, { final: true });
}

async function init() {
  mountTokenBox();
  pad = mountDrawpad($("drawpad"), { onChange: onStrokes });
  $("undo").addEventListener("click", () => pad.undo());
  $("clear").addEventListener("click", () => { pad.clear(); showSample(null); });
  $("model-choice").addEventListener("change", rereadPad);
  $("model-choice").addEventListener("change", showFirstLayer);
  $("first-layer").addEventListener("toggle", showFirstLayer);
  $("sample").addEventListener("click", async () => {
    try {
      const s = await api.sampleDigit();
      sampleRows = imageRows(s.image);
      pad.showImage(sampleRows);
      store.update({ reading: null });   // no stale verdict while the new digit is read
      showSample(s);
      predict({ image: inkToDataUrl(sampleRows) });
    } catch (e) {
      $("predict-error").textContent = e.message;
    }
  });
  mountReading();
  refreshModels();

  let catalog;
  try { catalog = await api.getCatalog(); } catch (e) { $("predict-error").textContent = e.message; return; }
  // only what the page sets: the server finds the image files itself (it refuses a path over the API)
  const dataset = { name: DIGIT_DATASET, limit: 6000, flatten: false };
  const layers = Object.values(presets(catalog))[0];
  store.update({
    catalog, dataset,
    model: { layers, loss: Object.keys(catalog.losses)[0] },
    training: defaultTraining(catalog, { epochs: 5, batch_size: 64, optimizer: { name: "adam", ...paramDefaults(familyParams(catalog.optimizers, "adam")) } }),
  });
  mountTraining(catalog);
  finetune = mountFinetune(catalog);
  document.body.dataset.ready = "true";
}

init();
