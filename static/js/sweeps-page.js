// /sweeps: define a sweep from a playground configuration, watch its trials fill the scatter, the parallel
// coordinates and the table, open a trial in the playground, narrow the ranges around the best.
import { cancelSweep, createSweep, getCatalog, getJob, getJobSpec, getSweep, listSweeps, narrowedSweep } from "./api.js";
import { mountTokenBox } from "./auth.js";
import { el, formatNumber } from "./draw-util.js";
import { createParallel, createScatter, metricScale, numericAxis, settingAxis } from "./sweeps-charts.js";
import { mountOptions, mountParameters, suggestionsFor } from "./sweeps-form.js";
import { readUrl, serialize } from "./state.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const METRIC_AXIS = "<metric>";
const ACTIVE = new Set(["waiting", "queued", "running", "paused"]);
const DEFAULT_VARIED = ["training.optimizer.learning_rate", "training.regularization.l2"];

const page = { catalog: null, base: null, sweep: null, sort: { key: "index", dir: 1 }, selected: null, timer: null };

function labelOf(path) {
  const s = suggestionsFor(page.catalog, page.sweep?.base || page.base).find((x) => x.path === path);
  return s ? s.label : path.split(".").slice(-2).join(".");
}

// ---- the base configuration: a playground link (#s=), a gallery preset or a run
function baseChoices() {
  const choices = [];
  const linked = readUrl();
  if (linked?.dataset && linked?.model) choices.push({ value: "link", title: "this link's playground configuration", spec: linked });
  choices.push({ value: "default", title: "spiral, 16-16 tanh, adam (the lectures' sweep)", spec: page.catalog.sweeps.base });
  for (const p of page.catalog.presets) choices.push({ value: `preset:${p.name}`, title: p.title, spec: p.spec });
  return choices;
}

function setBase(spec, text) {
  page.base = { dataset: spec.dataset, model: spec.model, training: { ...(spec.training || {}) } };
  $("sweep-base-text").textContent = text;
  const chosen = {};
  for (const s of suggestionsFor(page.catalog, page.base)) if (DEFAULT_VARIED.includes(s.path)) chosen[s.path] = s;
  page.params.render(suggestionsFor(page.catalog, page.base), chosen);
}

function mountBase() {
  const choices = baseChoices();
  const select = $("sweep-base");
  select.replaceChildren(...choices.map((c) => el("option", { value: c.value, text: c.title })));
  const pick = () => {
    const c = choices.find((x) => x.value === select.value);
    setBase(c.spec, `${c.spec.dataset.name}, ${c.spec.model.layers.length - 1} hidden layer(s)`);
  };
  select.addEventListener("change", pick);
  $("sweep-run").addEventListener("change", async () => {
    const id = $("sweep-run").value.trim();
    if (!id) return;
    if (id.includes("#s=")) {   // a playground share link: its configuration, as state.js wrote it
      const linked = readUrl(new URL(id, location.href));
      if (linked?.dataset && linked?.model) setBase(linked, "the pasted playground link");
      else $("sweep-error").textContent = "that link holds no playground configuration";
      return;
    }
    try {
      const [job, spec] = await Promise.all([getJob(id), getJobSpec(id)]);   // the whole spec: inline data too
      setBase(spec, `run ${job.name}`);
      $("sweep-error").textContent = "";
    } catch (e) {
      $("sweep-error").textContent = e.message;
    }
  });
  select.value = choices[0].value;   // the link's configuration when there is one, else the engine's default
  pick();
}

function sweepBody() {
  const training = { ...page.base.training, epochs: Number($("sweep-epochs").value) || page.catalog.sweeps.base.training.epochs };
  // trials are ranked, not watched: no boundary or histogram frames, no pacing
  const stream = { boundary: false, histograms: false, max_epochs_per_second: null };
  const body = { base: { ...page.base, training, stream }, parameters: page.params.read(), ...page.options.read() };
  if ($("sweep-halving").checked) body.early_termination = page.options.readHalving();
  return body;
}

async function startSweep(body) {
  $("sweep-error").textContent = "";
  try {
    const sweep = await createSweep(body);
    await refreshList(sweep.id);
    show(sweep);
  } catch (e) {
    $("sweep-error").textContent = e.message;
  }
}

// ---- showing a sweep
async function refreshList(current) {
  const { items } = await listSweeps({ limit: 30 });
  page.listed = Object.fromEntries(items.map((s) => [s.id, s.status]));
  const pick = $("sweep-pick");
  pick.replaceChildren(...(items.length ? items : [{ id: "", status: "none yet" }]).map((s) =>
    el("option", { value: s.id, text: s.id ? `${s.id} · ${s.method} · ${s.n_trials} trials · ${s.status}` : s.status })));
  pick.value = current || items[0]?.id || "";
}

function show(sweep) {
  const changed = !page.sweep || page.sweep.id !== sweep.id;
  page.sweep = sweep;
  if (changed) {
    history.replaceState(null, "", `/sweeps?id=${sweep.id}`);
    pickAxes(sweep);
  }
  draw();
  clearTimeout(page.timer);
  if (sweep.status === "running") page.timer = setTimeout(() => poll(sweep.id), POLL_MS);
  else if (page.listed?.[sweep.id] === "running") refreshList(sweep.id);   // the picker says it has ended
}

async function poll(id) {
  try {
    const sweep = await getSweep(id);
    if (page.sweep?.id === id) show(sweep);
  } catch (e) {
    $("sweep-status").textContent = e.message;
    page.timer = setTimeout(() => poll(id), POLL_MS * 3);
  }
}

function pickAxes(sweep) {
  const paths = Object.keys(sweep.parameters);
  const fill = (select, value) => {
    select.replaceChildren(...paths.map((p) => el("option", { value: p, text: labelOf(p) })));
    select.value = value;
  };
  const x = paths.find((p) => p.endsWith("learning_rate")) || paths[0];
  const y = paths.find((p) => p.endsWith(".l2") && p !== x) || paths.find((p) => p !== x) || x;
  fill($("scatter-x"), x);
  fill($("scatter-y"), y);
  // the metric itself as y: the only choice that says something when one setting is swept
  $("scatter-y").append(el("option", { value: METRIC_AXIS, text: sweep.metric }));
  if (paths.length === 1) $("scatter-y").value = METRIC_AXIS;
}

function draw() {
  const sweep = page.sweep;
  if (!sweep) return;
  const counts = Object.entries(sweep.counts).map(([k, n]) => `${n} ${k}`).join(", ");
  $("sweep-status").textContent = `${sweep.status} · ${sweep.method} · ${sweep.metric} (${sweep.goal}) · ${counts}`;
  $("sweep-cancel").disabled = sweep.status !== "running";
  $("sweep-narrow").disabled = !sweep.best;
  const best = sweep.best;
  $("sweep-best").textContent = best ? `best: trial ${best.index}, ${sweep.metric} ${formatNumber(best.best.value, 4)} at epoch ` +
    `${best.best.epoch} (${Object.entries(best.params).map(([k, v]) => `${labelOf(k)} ${formatNumber(v, 4)}`).join(", ")})` : "";
  const color = metricScale(sweep.trials, sweep.goal);
  const axes = Object.fromEntries(Object.entries(sweep.parameters).map(([p, spec]) =>
    [p, settingAxis(p, spec, page.catalog, labelOf(p))]));
  const values = sweep.trials.map((t) => t.best?.value).filter(Number.isFinite);
  const paths = Object.keys(sweep.parameters);
  const metricAxis = numericAxis(sweep.metric, values.length ? Math.min(...values) : 0,
                                 values.length ? Math.max(...values) : 1, "linear");
  const xPath = $("scatter-x").value, yPath = $("scatter-y").value;
  const onMetric = yPath === METRIC_AXIS;
  page.scatter.set({ trials: sweep.trials, x: axes[xPath], y: onMetric ? metricAxis : axes[yPath], color,
                     xValue: (t) => t.params[xPath], yValue: (t) => (onMetric ? t.best?.value : t.params[yPath]),
                     selected: page.selected });
  page.parallel.set({ trials: sweep.trials, paths, axes: [...paths.map((p) => axes[p]), metricAxis], color });
  legend(values, sweep);
  table(sweep, paths);
}

function legend(values, sweep) {
  const box = $("scatter-legend");
  if (!values.length) { box.textContent = "hollow: waiting or running without a value yet"; return; }
  const lo = Math.min(...values), hi = Math.max(...values);
  const [worst, best] = sweep.goal === "maximize" ? [lo, hi] : [hi, lo];
  box.replaceChildren(el("span", { text: `${sweep.metric}: worst ${formatNumber(worst, 3)}` }),
    el("span", { class: "viridis-bar", "aria-hidden": "true" }), el("span", { text: `best ${formatNumber(best, 3)}` }),
    el("span", { class: "muted", text: "· square: stopped early · hollow: no value yet" }));
}

const COLUMNS = (paths) => [
  { key: "index", text: "#", get: (t) => t.index },
  { key: "status", text: "status", get: (t) => t.status },
  ...paths.map((p) => ({ key: p, text: labelOf(p), get: (t) => t.params[p], num: true })),
  { key: "epoch", text: "epochs", get: (t) => t.epoch, num: true },
  { key: "best", text: "best", get: (t) => t.best?.value, num: true },
];

function table(sweep, paths) {
  const cols = COLUMNS(paths);
  const { key, dir } = page.sort;
  const col = cols.find((c) => c.key === key) || cols[0];
  const rows = [...sweep.trials].sort((a, b) => {
    const va = col.get(a), vb = col.get(b);
    if (va === vb) return a.index - b.index;
    if (va === undefined || va === null) return 1;
    if (vb === undefined || vb === null) return -1;
    return (va < vb ? -1 : 1) * dir;
  });
  $("sweep-table").querySelector("thead").replaceChildren(el("tr", {}, ...cols.map((c) => el("th", {
    class: c.num ? "num" : undefined, "aria-sort": c.key === key ? (dir > 0 ? "ascending" : "descending") : undefined },
    el("button", { type: "button", class: "sort", text: c.text, "data-sort": c.key,
                   onclick: () => { page.sort = { key: c.key, dir: c.key === key ? -dir : 1 }; draw(); } }))),
    el("th", {}, el("span", { class: "sr-only", text: "actions" }))));
  $("sweep-table").querySelector("tbody").replaceChildren(...rows.map((t) => {
    const dim = page.selected && !page.selected.has(t.index);
    return el("tr", { class: dim ? "dimmed" : t.index === sweep.best?.index ? "selected" : undefined, "data-index": t.index },
      el("td", { text: t.index }),
      el("td", {}, el("span", { class: `status-badge ${t.status}`, text: t.stopped_early ? "stopped early" : t.status,
                                 title: t.message || undefined })),
      ...paths.map((p) => el("td", { class: "num", text: formatNumber(t.params[p], 4) })),
      el("td", { class: "num", text: t.epochs ? `${t.epoch}/${t.epochs}` : String(t.epoch) }),
      el("td", { class: "num", text: t.best ? formatNumber(t.best.value, 4) : "–" }),
      el("td", { class: "actions" }, ACTIVE.has(t.status) && t.status === "waiting" ? "" : el("button", {
        type: "button", text: "playground", title: "open this trial's configuration in the playground",
        onclick: () => openInPlayground(t) }),
      t.status === "waiting" ? "" : el("a", { class: "button", href: `/jobs/${t.job_id}`, text: "run" })));
  }));
}

async function openInPlayground(trial) {
  const spec = await getJobSpec(trial.job_id);   // the trial's own normalized spec: the server applied its params
  const cfg = { dataset: spec.dataset, model: { layers: spec.model.layers, loss: spec.model.loss },
                training: spec.training };
  window.location.href = `/#s=${serialize(cfg, ["dataset", "model", "training"])}`;
}

async function narrow() {
  try {
    const { sweep } = await narrowedSweep(page.sweep.id);
    page.options.write(sweep);
    page.params.render(suggestionsFor(page.catalog, sweep.base), sweep.parameters);
    await startSweep(sweep);
  } catch (e) {
    $("sweep-error").textContent = e.message;
  }
}

async function init() {
  mountTokenBox();
  page.catalog = await getCatalog();
  const limits = page.catalog.limits;
  page.options = mountOptions($("sweep-options"), $("sweep-halving-options"), page.catalog, limits);
  const epochsParam = page.catalog.training.find((p) => p.name === "epochs");
  $("sweep-options").prepend(el("label", {}, "epochs per trial ", el("input", {
    id: "sweep-epochs", type: "number", min: epochsParam.min, max: limits.max_epochs, step: 1,
    value: page.catalog.sweeps.base.training.epochs })));
  page.params = mountParameters($("sweep-params").querySelector("tbody"), page.catalog);
  mountBase();
  page.scatter = createScatter($("sweep-scatter"));
  page.parallel = createParallel($("sweep-parallel"), { onBrush: (sel) => { page.selected = sel; draw(); } });
  $("sweep-start").addEventListener("click", () => startSweep(sweepBody()));
  $("sweep-cancel").addEventListener("click", async () => show(await cancelSweep(page.sweep.id)));
  $("sweep-narrow").addEventListener("click", narrow);
  $("scatter-x").addEventListener("change", draw);
  $("scatter-y").addEventListener("change", draw);
  $("sweep-pick").addEventListener("change", async () => {
    if ($("sweep-pick").value) show(await getSweep($("sweep-pick").value));
  });
  const id = new URLSearchParams(location.search).get("id");
  await refreshList(id);
  if ($("sweep-pick").value) show(await getSweep($("sweep-pick").value));
  document.body.dataset.ready = "true";
}

init().catch((e) => { $("sweep-error").textContent = e.message; });
