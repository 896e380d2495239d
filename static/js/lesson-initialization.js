// /lessons/initialization: one activation histogram per layer of a deep stack (POST /api/lessons/initialization),
// with mean / std / saturated / dead per layer and the backward gradient spread; optionally two initializers
// side by side. Options, ranges and presets come from the engine (GET /api/lessons/initialization, /api/catalog).
import * as api from "./api.js";
import { createLineChart, renderLegend } from "./charts.js";
import { familyOptions, familyParams, paramDefaults, paramFields, selectEl } from "./forms.js";
import { el, fitCanvas, formatNumber, frameScheduler, watchSize } from "./draw-util.js";
import { mountTokenBox } from "./auth.js";

const $ = (id) => document.getElementById(id);
const RUN_COLORS = { a: "#0072B2", b: "#D55E00" };   // Okabe-Ito blue / vermillion
const NET_KEYS = ["layers", "units", "n_samples", "seed"];

const state = {
  catalog: null, lesson: null,
  net: {},                                   // layers, units, n_samples, seed
  activation: "tanh",                        // a name or {name, options}
  initializers: { a: null, b: null },        // {name, options}
  compare: false,
  results: { a: null, b: null },
};

function withDefaults(family, spec) {
  const name = typeof spec === "string" ? spec : spec.name;
  const given = typeof spec === "string" ? {} : spec;
  return { ...paramDefaults(familyParams(family, name)), ...given, name };
}

// ---- asking the engine (one request per run; stale answers are dropped)
const seq = { a: 0, b: 0 };
let timer = null;
function refetch() {
  clearTimeout(timer);
  timer = setTimeout(() => { run("a"); if (state.compare) run("b"); }, 120);
}

async function run(which) {
  const mine = ++seq[which];
  const body = { ...state.net, activation: state.activation, initializer: state.initializers[which] };
  document.body.dataset.pending = "true";
  try {
    const result = await api.activationStatistics(body);
    if (mine !== seq[which]) return;
    state.results[which] = result;
    $("lesson-error").textContent = "";
    renderRun(which);
    requestGrad();
  } catch (e) {
    if (mine === seq[which]) $("lesson-error").textContent = e.message;
  } finally {
    if (mine === seq[which]) document.body.dataset.pending = "false";
  }
}

// ---- one histogram per layer
function drawHistogram(canvas, layer, color) {
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  const { counts, edges } = layer.histogram;
  const max = Math.max(1, ...counts);
  const labelH = 14, h = height - labelH;
  const bw = width / counts.length;
  ctx.fillStyle = color;
  counts.forEach((c, k) => {
    const bh = (c / max) * (h - 2);
    ctx.fillRect(k * bw + 0.5, h - bh, Math.max(1, bw - 1), bh);
  });
  ctx.fillStyle = "#5b6475"; ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "bottom";
  ctx.textAlign = "left"; ctx.fillText(formatNumber(edges[0], 2), 1, height);
  ctx.textAlign = "right"; ctx.fillText(formatNumber(edges[edges.length - 1], 2), width - 1, height);
}

function percent(v) {
  return `${(100 * v).toFixed(v > 0 && v < 0.01 ? 1 : 0)}%`;
}

function renderRun(which) {
  const box = $(`hists-${which}`);
  const result = state.results[which];
  if (!result) { box.replaceChildren(); return; }
  const figs = result.layers.map((layer) => {
    const canvas = el("canvas", { "aria-label": `layer ${layer.index + 1} activation histogram` });
    const total = layer.histogram.counts.reduce((a, b) => a + b, 0) || 1;
    const flags = [];
    if (layer.saturated !== null && layer.saturated >= 0.005) flags.push(`saturated ${percent(layer.saturated)}`);
    if (layer.dead >= 0.005) flags.push(`zero ${percent(layer.dead)}`);
    const fig = el("figure", {
      class: "layer-hist",
      dataset: { layer: String(layer.index), std: String(layer.std), peak: String(Math.max(...layer.histogram.counts) / total) },
    }, canvas, el("figcaption", {},
      el("div", { class: "layer-name", text: `Layer ${layer.index + 1}` }),
      el("div", { class: "num", text: `mean ${formatNumber(layer.mean, 2)}` }),
      el("div", { class: "num", text: `std ${formatNumber(layer.std, 3)}` }),
      el("div", { class: "flag", text: flags.join(", ") || "\u00a0" })));
    return fig;
  });
  box.replaceChildren(...figs);
  box.dataset.layers = String(figs.length);
  redraw[which] = frameScheduler(() => figs.forEach((fig, k) =>
    drawHistogram(fig.querySelector("canvas"), result.layers[k], RUN_COLORS[which])));
  redraw[which]();
  if (!box.dataset.watched) { box.dataset.watched = "1"; watchSize(box, () => redraw[which]?.()); }
}
const redraw = { a: null, b: null };   // each run's histograms, drawn at most once per frame

// ---- backward pass: gradient spread per layer
const gradChart = createLineChart($("grad-chart"), { xLabel: "layer", yLabel: "std of dL/dW" });
function drawGrad() {
  const series = ["a", "b"].filter((w) => state.results[w] && (w === "a" || state.compare)).map((w) => ({
    label: `${w.toUpperCase()}: ${initLabel(state.initializers[w])}`, color: RUN_COLORS[w],
    points: state.results[w].layers.map((l) => [l.index + 1, l.grad_std]),
  }));
  const positive = series.every((s) => s.points.every(([, y]) => y > 0));
  gradChart.set(series, { log: positive });
  renderLegend($("grad-legend"), series);
}
const requestGrad = frameScheduler(drawGrad);

function initLabel(spec) {
  const defaults = paramDefaults(familyParams(state.catalog.initializers, spec.name));
  const extra = Object.entries(spec).filter(([k, v]) => k !== "name" && (v !== defaults[k] || k === "stddev"));
  return `${spec.name.replace(/_/g, " ")}${extra.length ? ` (${extra.map(([k, v]) => `${k} ${v}`).join(", ")})` : ""}`;
}

// ---- controls
function renderInitializer(which) {
  const spec = state.initializers[which];
  const pick = selectEl(familyOptions(state.catalog.initializers), spec.name, (name) => {
    state.initializers[which] = withDefaults(state.catalog.initializers, name);
    renderInitializer(which);
    refetch();
  }, { id: `init-${which}-name`, "aria-label": `initializer ${which.toUpperCase()}` });
  const fields = paramFields(familyParams(state.catalog.initializers, spec.name), spec, (values) => {
    state.initializers[which] = { ...values, name: spec.name };
    refetch();
  }, { compact: true });
  fields.dataset.initializer = which;
  $(`init-${which}`).replaceChildren(
    el("div", { class: "field compact" }, el("label", { for: `init-${which}-name`, text: "initializer" }), pick), fields);
  $(`h-${which}`).textContent = `Initializer ${which.toUpperCase()}: ${initLabel(spec)}`;
}

function renderActivation() {
  const spec = typeof state.activation === "string" ? withDefaults(state.catalog.activations, state.activation) : state.activation;
  const pick = selectEl(familyOptions(state.catalog.activations).filter((o) => o.value !== "softmax"), spec.name, (name) => {
    state.activation = withDefaults(state.catalog.activations, name);
    renderActivation();
    refetch();
  }, { id: "activation" });
  const fields = paramFields(familyParams(state.catalog.activations, spec.name), spec, (values) => {
    state.activation = { ...values, name: spec.name };
    refetch();
  }, { compact: true });
  $("act-fields").replaceChildren(el("div", { class: "field compact" }, el("label", { for: "activation", text: "activation" }), pick), fields);
}

function renderNet() {
  const params = state.lesson.options.filter((p) => NET_KEYS.includes(p.name));
  $("net-fields").replaceChildren(...paramFields(params, state.net, (values) => { state.net = values; refetch(); }, { compact: true }).children);
}

function setCompare(on) {
  state.compare = on;
  $("compare").checked = on;
  $("run-b").hidden = !on;
  if (on) run("b"); else requestGrad();
}

function applyPreset(preset) {
  state.activation = withDefaults(state.catalog.activations, preset.activation);
  state.initializers.a = withDefaults(state.catalog.initializers, preset.initializer);
  if (preset.compare) state.initializers.b = withDefaults(state.catalog.initializers, preset.compare);
  renderActivation(); renderInitializer("a"); renderInitializer("b");
  state.compare = Boolean(preset.compare);
  $("compare").checked = state.compare;
  $("run-b").hidden = !state.compare;
  refetch();
}

async function start() {
  mountTokenBox();
  try {
    [state.catalog, state.lesson] = await Promise.all([api.getCatalog(), api.getInitializationLesson()]);
  } catch (e) {
    $("lesson-error").textContent = e.message;
    return;
  }
  const defaults = paramDefaults(state.lesson.options);
  state.net = Object.fromEntries(NET_KEYS.map((k) => [k, defaults[k]]));
  state.initializers.b = withDefaults(state.catalog.initializers, "glorot_normal");
  $("init-preset").replaceChildren(...state.lesson.presets.map((p) => el("option", { value: p.name, text: p.title })));
  $("init-preset").addEventListener("change", () => applyPreset(state.lesson.presets.find((p) => p.name === $("init-preset").value)));
  $("compare").addEventListener("change", () => setCompare($("compare").checked));
  renderNet();
  applyPreset(state.lesson.presets[0]);
  document.body.dataset.ready = "true";
}

start();
