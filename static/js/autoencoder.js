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

const SIDE = 28;                   // MNIST's image side: the decoder's way back up ends there

function units(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean).map(Number);
}

const conv = (filters, activation) => ({ type: "conv2d", filters, kernel_size: 3, padding: "same", activation });

/** encoder layers: dense units, or per filter count a 3x3 conv and a 2x2 max-pool (halves the side) */
function encoderLayers(kind, sizes, act) {
  if (kind === "dense") return sizes.map((u) => ({ type: "dense", units: u, activation: act }));
  return [...sizes.flatMap((f) => [conv(f, act), { type: "maxpool2d", pool_size: 2 }]), { type: "flatten" }];
}

/** decoder layers after the code. A conv decoder starts as a dense layer reshaped to (first filters, s, s),
 * then per filter count a 2x upsampling and a 3x3 conv, so that s doubled once per layer is 28; a last conv
 * gives the one channel, flattened to the 784 values the targets are (the engine checks it all) */
function decoderLayers(kind, sizes, act) {
  if (kind === "dense" || !sizes.length) {
    return [...sizes.map((u) => ({ type: "dense", units: u, activation: act })),
      { type: "dense", units: SIDE * SIDE, activation: "sigmoid" }];
  }
  const side = Math.max(1, Math.round(SIDE / 2 ** sizes.length));
  return [{ type: "dense", units: sizes[0] * side * side, activation: act },
    { type: "reshape", target_shape: [sizes[0], side, side] },
    ...sizes.flatMap((f) => [{ type: "upsample2d", size: 2 }, conv(f, act)]),
    conv(1, "linear"), { type: "flatten" }, { type: "activation", activation: "sigmoid" }];
}

function spec() {
  const act = $("ae-activation").value;
  const code = Number($("ae-code").value);
  const noise = Number($("ae-noise").value) || 0;
  const encKind = $("ae-encoder-kind").value;
  const layers = [
    ...encoderLayers(encKind, units($("ae-encoder").value), act),
    { type: "dense", units: code, activation: "linear", code: true },
    ...decoderLayers($("ae-decoder-kind").value, units($("ae-decoder").value), act),
  ];
  return {
    // a conv encoder reads images (1, 28, 28); the targets are the flattened pixels either way
    dataset: { name: "mnist", flatten: encKind === "dense", target: "input", limit: Number($("ae-limit").value),
               ...(noise ? { input_noise: noise } : {}) },
    model: { layers, loss: $("ae-loss").value },
    training: { optimizer: { name: "adam", learning_rate: 0.001 }, batch_size: 128, epochs: Number($("ae-epochs").value) },
    stream: { boundary: false, histograms: false },
  };
}

/** one chip per layer: "conv 8", "pool", "up", "16×7×7", the code highlighted */
function layerText(l) {
  if (l.type === "conv2d") return `conv ${l.filters}`;
  if (l.type === "maxpool2d") return "pool";
  if (l.type === "upsample2d") return "up ×2";
  if (l.type === "reshape") return l.target_shape.join("×");
  if (l.type === "flatten") return "flatten";
  if (l.type === "activation") return l.activation;
  return `${l.units}${l.code ? " code" : ""}`;
}

function showLayers() {
  const s = spec();
  for (const part of ["encoder", "decoder"]) {
    $(`ae-${part}-what`).textContent = $(`ae-${part}-kind`).value === "conv" ? "filters" : "units";
  }
  $("ae-layers").replaceChildren(
    Object.assign(document.createElement("li"), { textContent: s.dataset.flatten ? "784 in" : "28×28 in" }),
    ...s.model.layers.map((l) => Object.assign(document.createElement("li"), {
      textContent: layerText(l), className: [l.code ? "code" : "", l.type].join(" ").trim() })));
  $("ae-layers").dataset.conv = String(s.model.layers.filter((l) => l.type === "conv2d").length);
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

/** the decoder as the encoder reversed: the same kind (dense or conv), the sizes in reverse order */
function mirror() {
  $("ae-decoder").value = units($("ae-encoder").value).reverse().join(", ");
  $("ae-decoder-kind").value = $("ae-encoder-kind").value;
  showLayers();
}

$("ae-mirror").addEventListener("click", mirror);
$("ae-train").addEventListener("click", train);
$("ae-stop").addEventListener("click", () => state.job && cancelJob(state.job));
$("ae-codes").addEventListener("click", decodeAt);
for (const id of ["ae-encoder", "ae-code", "ae-decoder"]) $(id).addEventListener("input", showLayers);
for (const id of ["ae-encoder-kind", "ae-decoder-kind"]) $(id).addEventListener("change", showLayers);
showLayers();
drawLoss($("ae-loss-chart"), []);
