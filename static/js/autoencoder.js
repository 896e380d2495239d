// /autoencoder: build an encoder + decoder, train it on MNIST, watch the code space fill, click to decode.
// The engine decides everything (the spec is checked by POST /api/jobs, codes and pictures come from the
// job's endpoints); this module wires the form, the stream and the views.
import { createJob, cancelJob, decodeCodes, getCodes, getJob, getReconstructions, openJobStream } from "./api.js";
import { boundsOf, codeAt, DIGIT_COLOURS, drawCodes, drawLoss, drawPicture, drawStrip } from "./autoencoder-views.js";

const $ = (id) => document.getElementById(id);
const CODE_ROWS = 1000;            // test digits in the scatter
const REFRESH_MS = 1200;           // codes and reconstructions at most this often while training

const state = { job: null, stream: null, history: [], codes: [], labels: [], bounds: null, marker: null,
  refreshing: false, lastRefresh: 0, hasModel: false };

function units(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean).map(Number);
}

function spec() {
  const act = $("ae-activation").value;
  const code = Number($("ae-code").value);
  const noise = Number($("ae-noise").value) || 0;
  const layers = [
    ...units($("ae-encoder").value).map((u) => ({ type: "dense", units: u, activation: act })),
    { type: "dense", units: code, activation: "linear", code: true },
    ...units($("ae-decoder").value).map((u) => ({ type: "dense", units: u, activation: act })),
    { type: "dense", units: 784, activation: "sigmoid" },
  ];
  return {
    dataset: { name: "mnist", flatten: true, target: "input", limit: Number($("ae-limit").value),
               ...(noise ? { input_noise: noise } : {}) },
    model: { layers, loss: $("ae-loss").value },
    training: { optimizer: { name: "adam", learning_rate: 0.001 }, batch_size: 128, epochs: Number($("ae-epochs").value) },
    stream: { boundary: false, histograms: false },
  };
}

function showLayers() {
  const s = spec();
  $("ae-layers").replaceChildren(
    Object.assign(document.createElement("li"), { textContent: "784 in" }),
    ...s.model.layers.map((l) => Object.assign(document.createElement("li"), {
      textContent: `${l.units}${l.code ? " code" : ""}`, className: l.code ? "code" : "" })));
}

function legend(names) {
  $("ae-legend").replaceChildren(...names.map((name, i) => {
    const s = document.createElement("span");
    s.style.setProperty("--c", DIGIT_COLOURS[i % DIGIT_COLOURS.length]);
    s.textContent = name;
    return s;
  }));
}

function redraw() {
  if (!state.codes.length) return;
  drawCodes($("ae-codes"), state.codes, state.labels, state.bounds, state.marker);
}

async function refresh(force = false) {
  if (!state.job || state.refreshing) return;
  if (!force && performance.now() - state.lastRefresh < REFRESH_MS) return;
  state.refreshing = true;
  state.lastRefresh = performance.now();
  try {
    if (!state.hasModel) state.hasModel = (await getJob(state.job)).has_model;   // no model file yet: no codes
    if (!state.hasModel) return;
    const answer = await getCodes(state.job, { split: "test", limit: CODE_ROWS });
    state.codes = answer.codes;
    state.labels = answer.labels;
    state.bounds = boundsOf(answer.codes);
    if (answer.label_names && !$("ae-legend").children.length) legend(answer.label_names);
    $("ae-space-note").textContent = answer.units === 2
      ? "test digits at their 2-D codes, coloured by label; click anywhere to see what the decoder draws there"
      : `a ${answer.units}-D code: its first two values shown; a click sets those two, the rest at their mean`;
    redraw();
    const rec = await getReconstructions(state.job, 12);
    drawStrip($("ae-originals"), rec.originals, "original");
    $("ae-inputs").hidden = !rec.inputs;
    if (rec.inputs) drawStrip($("ae-inputs"), rec.inputs, "noisy input");
    drawStrip($("ae-reconstructions"), rec.reconstructions, "reconstruction");
    const mean = rec.errors.reduce((a, b) => a + b, 0) / rec.errors.length;
    $("ae-recon-note").textContent = `top: test digits${rec.inputs ? ", then what the network saw (noisy)" : ""}; ` +
      `bottom: what it rebuilds (mean squared error ${mean.toFixed(4)} per pixel)`;
  } catch (e) {
    $("ae-error").textContent = e.message;
  } finally {
    state.refreshing = false;
  }
}

async function decodeAt(ev) {
  if (!state.job || !state.codes.length) return;
  const [x, y] = codeAt($("ae-codes"), state.bounds, ev.clientX, ev.clientY);
  const width = state.codes[0].length;
  const mean = Array.from({ length: width }, (_, j) => state.codes.reduce((a, c) => a + c[j], 0) / state.codes.length);
  const code = mean.map((m, j) => (j === 0 ? x : j === 1 ? y : m));
  state.marker = [x, y];
  redraw();
  try {
    const answer = await decodeCodes(state.job, [code]);
    drawPicture($("ae-decoded"), answer.images[0]);
    $("ae-decoded").dataset.decoded = "1";
    $("ae-decoded-note").textContent = `decoded at (${x.toFixed(2)}, ${y.toFixed(2)})`;
  } catch (e) {
    $("ae-error").textContent = e.message;
  }
}

function onMessage(msg) {
  if (msg.type === "epoch") {
    state.history.push(msg);
    drawLoss($("ae-loss-chart"), state.history);
    $("ae-status").textContent = `epoch ${msg.epoch}: test reconstruction error ${msg.test_reconstruction_error?.toFixed(4)}`;
    refresh();
  } else if (msg.type === "done" || (msg.type === "error" && !msg.recoverable)) {
    $("ae-status").textContent = msg.message || msg.status || "";
    $("ae-train").disabled = false;
    $("ae-stop").disabled = true;
    refresh(true);
  }
}

async function train() {
  $("ae-error").textContent = "";
  if (state.stream) state.stream.close();
  Object.assign(state, { history: [], codes: [], labels: [], marker: null, hasModel: false, lastRefresh: 0 });
  drawLoss($("ae-loss-chart"), []);
  try {
    const job = await createJob(spec());
    state.job = job.id;
    $("ae-codes").dataset.job = job.id;
    $("ae-train").disabled = true;
    $("ae-stop").disabled = false;
    $("ae-status").textContent = "training...";
    state.stream = openJobStream(job.id, { onMessage });
  } catch (e) {
    $("ae-error").textContent = e.message;
  }
}

function mirror() {
  $("ae-decoder").value = units($("ae-encoder").value).reverse().join(", ");
  showLayers();
}

$("ae-mirror").addEventListener("click", mirror);
$("ae-train").addEventListener("click", train);
$("ae-stop").addEventListener("click", () => state.job && cancelJob(state.job));
$("ae-codes").addEventListener("click", decodeAt);
for (const id of ["ae-encoder", "ae-code", "ae-decoder"]) $(id).addEventListener("input", showLayers);
showLayers();
drawLoss($("ae-loss-chart"), []);
