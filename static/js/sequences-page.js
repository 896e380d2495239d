// /sequences: pick a task, build a recurrent network, train it and watch loss, the gradient through time,
// the predictions on test sequences and (for text) samples. Every rule (the output layer for a task, shapes,
// limits, what a test row means) comes from the server: the summary, the catalog and the job's endpoints.
import { cancelJob, createJob, generateText, getCatalog, getJob, getSequences, openJobStream, summarizeModel } from "./api.js";
import { mountTokenBox } from "./auth.js";
import { createLineChart, historySeries, renderLegend } from "./charts.js";
import { el, fitCanvas, formatNumber } from "./draw-util.js";

const $ = (id) => document.getElementById(id);
const CELLS = ["simple_rnn", "lstm"];
const REFRESH_EVERY = 3;          // epochs between test-sequence tables and text samples
const MAX_TIME_LINES = 12;        // gradient-through-time lines kept (the earliest and the latest)

const page = { catalog: null, spec: null, job: null, stream: null, history: [], frames: [], samples: [], busy: false };
const charts = {};

function presetSpec() {
  const name = $("seq-preset").value;
  const preset = page.catalog.sequence_presets.find((p) => p.name === name);
  return preset ? structuredClone(preset.spec) : null;
}

function fillForm(spec) {
  const rec = spec.model.layers[0];
  $("seq-task").value = spec.dataset.name;
  $("seq-len").value = spec.dataset.seq_len ?? 20;
  $("seq-samples").value = spec.dataset.n_samples ?? 1000;
  $("seq-cell").value = rec.type;
  $("seq-units").value = rec.units;
  $("seq-epochs").value = 20;
  $("seq-lr").value = spec.training.optimizer.learning_rate;
}

/** the spec from the form; the output layer and loss are the summary's (the engine's rule for the task) */
function formSpec() {
  const base = page.spec;
  const number = (id) => Number($(id).value);
  const sameTask = base.dataset.name === $("seq-task").value;
  const dataset = { ...(sameTask ? base.dataset : {}), name: $("seq-task").value, seq_len: number("seq-len"),
                    n_samples: number("seq-samples") };
  const layers = [{ type: $("seq-cell").value, units: number("seq-units") }, ...base.model.layers.slice(1)];
  const training = { ...base.training, epochs: number("seq-epochs"),
                     optimizer: { ...base.training.optimizer, learning_rate: number("seq-lr") } };
  return { dataset, model: { layers, loss: base.model.loss }, training, stream: { max_fps: 4, histograms: false } };
}

async function refreshSummary() {
  const spec = formSpec();
  try {
    let s = await summarizeModel({ model: spec.model, dataset: spec.dataset });
    if (s.output && !s.output.fits) {     // the task changed: the head the engine suggests, units from the data
      const head = { type: "dense", units: null, activation: s.output.layer.activation };
      page.spec.model.layers = [page.spec.model.layers[0], head];
      page.spec.model.loss = s.output.loss;
      s = await summarizeModel({ model: formSpec().model, dataset: spec.dataset });
    }
    page.spec.dataset = { ...page.spec.dataset, name: spec.dataset.name };
    $("seq-summary").textContent = `${s.layers.map((l) => `${l.text} → ${JSON.stringify(l.output_shape)}`).join(", ")}` +
      ` · ${s.n_params.toLocaleString()} parameters · ${s.task}`;
    $("seq-error").textContent = s.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
  } catch (e) {
    $("seq-error").textContent = e.message;
  }
}

// ---- charts
function drawHistory() {
  const { loss, metric, metricLabel } = historySeries(page.history);
  charts.loss.set(loss, { xLabel: "epoch" });
  renderLegend($("seq-loss-legend"), loss);
  const test = metric.filter((s) => s.label.startsWith("test") || s.label.startsWith("train"));
  charts.metric.set(test, { xLabel: "epoch", yMin: metricLabel === "accuracy" ? 0 : undefined,
                            yMax: metricLabel === "accuracy" ? 1 : undefined });
  $("seq-metric-title").textContent = metricLabel === "accuracy" ? "accuracy" : "R²";
  renderLegend($("seq-metric-legend"), test);
}

function shade(i, n) {      // light to dark blue: early epochs faint, the latest strong
  const t = n <= 1 ? 1 : i / (n - 1);
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return `rgb(${mix(187, 0)}, ${mix(204, 68)}, ${mix(238, 136)})`;
}

function drawTime() {
  const frames = page.frames.length > MAX_TIME_LINES
    ? [page.frames[0], ...page.frames.slice(-(MAX_TIME_LINES - 1))] : page.frames;
  const series = frames.map((f, i) => ({
    label: `epoch ${f.epoch}`, color: shade(i, frames.length),
    points: f.layers[0].norms.map((v, t) => [t + 1, v]),
  }));
  charts.time.set(series, { log: true, xLabel: "time step t" });
  const layer = page.frames.at(-1)?.layers[0];
  renderLegend($("seq-time-legend"), series.length > 4 ? [series[0], series.at(-1)] : series);
  $("seq-time").dataset.frames = String(page.frames.length);
  if (layer) $("seq-time").setAttribute("aria-label", `gradient norm per time step of layer ${layer.layer} (${layer.type})`);
}

// ---- test sequences
function strip(values, target, prediction) {    // a small canvas: the input over time, target and prediction after it
  const canvas = el("canvas", { class: "seq-spark", width: 160, height: 36 });
  requestAnimationFrame(() => {
    const { ctx, width, height } = fitCanvas(canvas);
    const all = [...values, ...target, ...prediction].filter(Number.isFinite);
    const lo = Math.min(...all), hi = Math.max(...all) || 1;
    const x = (i) => 2 + (i / values.length) * (width - 4);
    const y = (v) => height - 3 - ((v - lo) / (hi - lo || 1)) * (height - 6);
    ctx.strokeStyle = "#4477AA"; ctx.beginPath();
    values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
    ctx.stroke();
    const at = (vals) => (vals.length === 1 ? [[values.length, vals[0]]] : vals.map((v, i) => [i + 1, v]));
    for (const [pts, color] of [[at(target), "#228833"], [at(prediction), "#EE6677"]]) {
      ctx.fillStyle = color;
      for (const [i, v] of pts) ctx.fillRect(x(i) - 2, y(v) - 2, 4, 4);
    }
  });
  return canvas;
}

function renderExamples(body) {
  const table = $("seq-examples");
  const rows = body.examples;
  let head, cells;
  if (body.dataset === "text") {
    head = ["window", "next", "predicted", "p", ""];
    cells = (r) => [el("td", { class: "seq-strip", text: JSON.stringify(r.inputs) }), el("td", { text: JSON.stringify(r.target) }),
                    el("td", { text: JSON.stringify(r.prediction) }), el("td", { text: formatNumber(r.probability, 2) }),
                    el("td", { class: r.correct ? "ok" : "wrong", text: r.correct ? "✓" : "✗" })];
  } else if (body.task === "classification") {
    head = ["bit at step", "bit", "recalled", "p", ""];
    cells = (r) => [el("td", { text: String((r.marked_step ?? 0) + 1) }), el("td", { text: String(r.target) }),
                    el("td", { text: String(r.prediction) }), el("td", { text: formatNumber(r.probability, 2) }),
                    el("td", { class: r.correct ? "ok" : "wrong", text: r.correct ? "recalled" : "forgot" })];
  } else {
    head = ["sequence (blue), target (green), prediction (red)", "target", "prediction"];
    cells = (r) => [el("td", {}, strip(r.inputs, r.target, r.prediction)),
                    el("td", { text: r.target.length > 1 ? `${r.target.length} values` : formatNumber(r.target[0]) }),
                    el("td", { text: r.prediction.length > 1 ? `${r.prediction.length} values` : formatNumber(r.prediction[0]) })];
  }
  table.tHead.replaceChildren(el("tr", {}, head.map((h) => el("th", { text: h }))));
  table.tBodies[0].replaceChildren(...rows.map((r) => el("tr", {}, cells(r))));
}

async function refreshResults(epoch, final = false) {
  const job = page.job;
  if (!job || !(await getJob(job.id)).has_model) return;     // no checkpoint yet: next time
  try { renderExamples(await getSequences(job.id, 8)); } catch (e) { $("seq-error").textContent = e.message; }
  if (job.spec.dataset.name !== "text") return;
  try {
    const out = await generateText(job.id, { prompt: $("seq-prompt").value || "\n", length: 200,
                                             temperature: Number($("seq-temp").value) || 0.8,
                                             seed: page.samples.length });   // a new draw each time
    page.samples.unshift({ epoch: final ? `${epoch} (final)` : epoch, text: out.prompt + out.text });
    $("seq-sample-list").replaceChildren(...page.samples.slice(0, 6).map((s) =>
      el("li", { class: "seq-sample" }, el("strong", { text: `epoch ${s.epoch}: ` }), s.text)));
  } catch (e) {
    if (e.status === 422) $("seq-error").textContent = e.message;
  }
}

// ---- a run
function onMessage(msg) {
  if (msg.type === "epoch") {
    page.history.push(msg);
    drawHistory();
    $("seq-status").textContent = `epoch ${msg.epoch}` + (msg.test_accuracy !== undefined
      ? ` · test accuracy ${formatNumber(msg.test_accuracy * 100, 3)} %` : "");
    if (msg.epoch % REFRESH_EVERY === 0) refreshResults(msg.epoch);
  } else if (msg.type === "time_gradients" && msg.layers.length) {
    page.frames = page.frames.filter((f) => f.epoch !== msg.epoch).concat([msg]);
    drawTime();
  } else if (msg.type === "done" || msg.type === "error") {
    $("seq-status").textContent = msg.type === "done" ? `${msg.status}: ${msg.message || ""}` : msg.message;
    $("seq-status").dataset.done = msg.type === "done" ? msg.status : "error";
    $("seq-train").disabled = false;
    $("seq-stop").disabled = true;
    $("seq-sample").disabled = !(page.job && page.job.spec.dataset.name === "text");
    refreshResults(page.history.at(-1)?.epoch ?? 0, true);
  }
}

async function train() {
  $("seq-error").textContent = "";
  page.stream?.close();
  Object.assign(page, { history: [], frames: [], samples: [] });
  drawHistory(); drawTime();
  $("seq-sample-list").replaceChildren();
  try {
    // created paused and resumed once the socket is open: a warm worker would otherwise train a small run
    // to the end before the socket connects, and its per-epoch frames (gradient through time) would be gone
    page.job = await createJob({ ...formSpec(), paused: true });
  } catch (e) {
    $("seq-error").textContent = e.message;
    return;
  }
  $("seq-train").disabled = true;
  $("seq-stop").disabled = false;
  delete $("seq-status").dataset.done;
  $("seq-samples-box").hidden = page.job.spec.dataset.name !== "text";
  $("seq-status").textContent = `${page.job.status}…`;
  page.stream = openJobStream(page.job.id, { onMessage });
  page.stream.send({ cmd: "resume" });           // queued until the socket is open, after it subscribed
}

async function main() {
  mountTokenBox();
  page.catalog = await getCatalog();
  const tasks = Object.entries(page.catalog.datasets).filter(([, d]) => d.kind === "sequence");
  $("seq-task").replaceChildren(...tasks.map(([name, d]) => el("option", { value: name, text: name, title: d.doc })));
  $("seq-cell").replaceChildren(...CELLS.filter((c) => c in page.catalog.layers).map((c) => el("option", { value: c, text: c })));
  $("seq-preset").replaceChildren(...page.catalog.sequence_presets.map((p) => el("option", { value: p.name, text: p.title })));
  charts.loss = createLineChart($("seq-loss"));
  charts.metric = createLineChart($("seq-metric"));
  charts.time = createLineChart($("seq-time"), { emptyText: "press Train: one line per epoch" });
  const choose = () => {
    page.spec = presetSpec();
    fillForm(page.spec);
    $("seq-preset-text").textContent = page.catalog.sequence_presets.find((p) => p.name === $("seq-preset").value).text;
    refreshSummary();
  };
  $("seq-preset").addEventListener("change", choose);
  for (const id of ["seq-task", "seq-len", "seq-samples", "seq-cell", "seq-units"]) $(id).addEventListener("change", refreshSummary);
  $("seq-train").addEventListener("click", train);
  $("seq-stop").addEventListener("click", () => page.job && cancelJob(page.job.id).catch((e) => { $("seq-error").textContent = e.message; }));
  $("seq-sample").addEventListener("click", () => refreshResults(page.history.at(-1)?.epoch ?? 0, true));
  choose();
  drawHistory();
  drawTime();
  document.body.dataset.ready = "true";
}

main();
