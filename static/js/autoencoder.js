// /autoencoder: build an encoder + decoder, train it on MNIST, watch the code space fill, click to decode.
// The engine decides everything: the form's choices, ranges and defaults (GET /api/models/autoencoder), the
// layers and the job spec they make (POST /api/models/autoencoder: the conv encoder's and decoder's shape
// rules live in engine/autoencoder_layouts.py), whether POST /api/jobs takes it, the codes and pictures (the
// job's endpoints); this module wires the form, the stream and the views.
import { autoencoderLayout, autoencoderOptions, createJob, cancelJob, decodeCodes, getCodes, getJob,
  getReconstructions, openJobStream } from "./api.js";
import { boundsOf, codeAt, DIGIT_COLOURS, drawCodes, drawLoss, drawPicture, drawStrip } from "./autoencoder-views.js";

const $ = (id) => document.getElementById(id);
const CODE_ROWS = 1000;            // test digits in the scatter
const REFRESH_MS = 1200;           // codes and reconstructions at most this often while training
const LAYOUT_MS = 150;             // typing pause before the layers are asked for again

const state = { job: null, stream: null, history: [], codes: [], labels: [], bounds: null, marker: null,
  refreshing: false, lastRefresh: 0, hasModel: false, parts: {}, asked: 0, timer: 0 };

// option name -> the form field holding it
const FIELDS = { encoder: "ae-encoder-kind", encoder_sizes: "ae-encoder", code_units: "ae-code",
  decoder: "ae-decoder-kind", decoder_sizes: "ae-decoder", activation: "ae-activation", loss: "ae-loss",
  limit: "ae-limit", input_noise: "ae-noise", epochs: "ae-epochs" };

function sizes(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean).map(Number);
}

/** the form as the engine's options; sizes as typed (the engine checks them and names the field) */
function options() {
  const o = {};
  for (const [name, id] of Object.entries(FIELDS)) {
    const el = $(id);
    if (name.endsWith("_sizes")) o[name] = sizes(el.value);
    else if (el.tagName === "SELECT") o[name] = el.value;
    else o[name] = el.value === "" ? null : Number(el.value);
  }
  if (!o.decoder_sizes.length) o.decoder_sizes = null;    // no hidden decoder layers: the output layer only
  return o;
}

/** the form from the engine's options: choices, ranges, help and (where the page has not set one) the default */
function fillForm(opts) {
  for (const p of opts) {
    const el = $(FIELDS[p.name]);
    if (!el) continue;
    el.title = p.help;
    if (el.tagName === "SELECT") {
      const keep = el.value;
      el.replaceChildren(...p.choices.map((c) => Object.assign(document.createElement("option"),
        { value: c, textContent: String(c).replaceAll("_", " ") })));
      el.value = p.choices.includes(keep) ? keep : p.default;
    } else if (p.type.endsWith("_list")) {
      if (el.value === "") el.value = (p.default || []).join(", ");
    } else {
      if (p.min !== null) el.min = p.min;
      if (p.max !== null) el.max = p.max;
      if (el.value === "") el.value = p.default;
    }
  }
}

/** ask the engine for the layers the form makes; a newer question wins over a slower older answer */
async function askLayout() {
  const asked = ++state.asked;
  try {
    const layout = await autoencoderLayout(options());
    if (asked !== state.asked) return null;
    $("ae-error").textContent = layout.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    if (layout.spec) showLayers(layout);
    else $("ae-layers").replaceChildren();
    return layout;
  } catch (e) {
    if (asked !== state.asked) return null;
    $("ae-error").textContent = e.message;
    $("ae-layers").replaceChildren();
    return null;
  }
}

function scheduleLayout() {
  showSizeNames();
  clearTimeout(state.timer);
  state.timer = setTimeout(askLayout, LAYOUT_MS);
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

/** "units" or "filters" beside each size field, as the chosen kind names its sizes */
function showSizeNames() {
  for (const part of ["encoder", "decoder"]) {
    $(`ae-${part}-what`).textContent = state.parts[$(`ae-${part}-kind`).value]?.size_name || "sizes";
  }
}

function showLayers(layout) {
  showSizeNames();
  const s = layout.spec;
  $("ae-layers").replaceChildren(
    Object.assign(document.createElement("li"), { textContent: s.dataset.flatten ? "784 in" : "28×28 in" }),
    ...s.model.layers.map((l, i) => Object.assign(document.createElement("li"), {
      textContent: layerText(l), title: `${layout.layers[i]?.text || l.type} → ${layout.layers[i]?.output_shape?.join("×")}`,
      className: [l.code ? "code" : "", l.type].join(" ").trim() })));
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
    clearTimeout(state.timer);
    const layout = await askLayout();              // the form as it is now, not a layout still on its way
    if (!layout || !layout.spec || layout.errors.length) return;
    const job = await createJob(layout.spec);
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
  $("ae-decoder").value = sizes($("ae-encoder").value).reverse().join(", ");
  $("ae-decoder-kind").value = $("ae-encoder-kind").value;
  askLayout();
}

$("ae-mirror").addEventListener("click", mirror);
$("ae-train").addEventListener("click", train);
$("ae-stop").addEventListener("click", () => state.job && cancelJob(state.job));
$("ae-codes").addEventListener("click", decodeAt);
for (const id of Object.values(FIELDS)) {
  $(id).addEventListener($(id).tagName === "SELECT" ? "change" : "input", scheduleLayout);
}
drawLoss($("ae-loss-chart"), []);
autoencoderOptions().then(({ options: opts, parts }) => {
  state.parts = parts;
  fillForm(opts);
  $("ae-units-help").textContent = "sizes per layer, comma separated (e.g. 256, 64 or 8, 16). " +
    Object.entries(parts).map(([name, part]) => `${name}: ${part.doc}.`).join(" ");
  return askLayout();
}).catch((e) => { $("ae-error").textContent = e.message; });
