// /digits "start from a trained model": copy chosen layers of a finished image job into a new run (POST
// /api/jobs init_from {"job_id", "layers"}), optionally frozen, on another image task (Fashion-MNIST, a subset of
// classes), and optionally the same spec trained from scratch on the same budget, their test curves overlaid.
// the engine checks the shapes (its 422 is shown as is) and picks the output head for the new task.
import * as api from "./api.js";
import { applyHead } from "./builder.js";
import { createLineChart, historySeries, renderLegend } from "./charts.js";
import { SERIES_COLORS, frameScheduler } from "./draw-util.js";

const $ = (id) => document.getElementById(id);
const FINISHED = new Set(["completed", "early_stopped"]);

/** image datasets that take a class subset, from the catalog (never a list of our own) */
const targetSets = (catalog) => Object.entries(catalog.datasets)
  .filter(([, d]) => d.kind === "image" && d.params.some((p) => p.name === "classes")).map(([name]) => name);

/** "5, 6, 7" -> [5, 6, 7]; "" -> null (all classes); the engine judges the values */
function parseClasses(text) {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  return parts.length ? parts.map(Number) : null;
}

export function mountFinetune(catalog) {
  const sets = targetSets(catalog);
  const runs = [];          // [{label, id, history, stream}]
  const sourceSel = $("ft-source");
  const targetSel = $("ft-target");
  targetSel.replaceChildren(...sets.map((n) => new Option(n, n)));
  let jobs = [];

  const refresh = async () => {
    try {
      const { items } = await api.listJobs({ limit: 100 });
      // a k-NN run has no layers to copy (it stores images, not weights)
      jobs = items.filter((j) => FINISHED.has(j.status) && j.has_model && sets.includes(j.spec?.dataset?.name) && j.spec?.model?.layers);
    } catch { jobs = []; }
    const keep = sourceSel.value;
    sourceSel.replaceChildren(new Option(jobs.length ? "choose a finished run" : "no finished digit run yet", ""),
      ...jobs.map((j) => new Option(`${j.name} · ${j.id.slice(0, 8)}${j.latest?.test_accuracy !== undefined ? ` · ${(j.latest.test_accuracy * 100).toFixed(1)}%` : ""}`, j.id)));
    if (jobs.some((j) => j.id === keep)) sourceSel.value = keep;
    renderLayers();
  };

  // one checkbox per layer of the source network; layers without parameters have nothing to copy
  const renderLayers = () => {
    const job = jobs.find((j) => j.id === sourceSel.value);
    const box = $("ft-layers");
    if (!job) { box.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: "pick a run to see its layers" })); return; }
    const rows = job.summary || [];
    box.replaceChildren(...rows.map((r, i) => {
      const label = document.createElement("label");
      label.className = "ft-layer";
      const input = Object.assign(document.createElement("input"), { type: "checkbox", value: String(r.index), checked: r.params > 0 && i < rows.length - 1 });
      input.dataset.layer = String(r.index);
      label.append(input, ` layer ${r.index}: ${r.text} (${r.params.toLocaleString()} params)`);
      return label;
    }));
    if (!$("ft-limit").value) $("ft-limit").value = String(job.spec.dataset.limit ?? 6000);
    if (!$("ft-epochs").value) $("ft-epochs").value = String(job.spec.training.epochs ?? 3);
  };

  /** the new run's spec: the source network on the target task, the output head the engine suggests */
  const buildSpec = async (job, copied, freeze) => {
    const src = job.spec;
    const classes = parseClasses($("ft-classes").value);
    const dataset = { name: targetSel.value, limit: Number($("ft-limit").value) || src.dataset.limit, flatten: src.dataset.flatten ?? false, ...(classes ? { classes } : {}) };
    let model = { layers: src.model.layers.map((l, i) => (freeze && copied.includes(i) ? { ...l, trainable: false } : l)), loss: src.model.loss };
    const summary = await api.summarizeModel({ model, dataset });
    if (summary.output && !summary.output.fits) {
      model = applyHead(model, { units: summary.output.layer.units, activation: summary.output.layer.activation, loss: summary.output.loss });
    }
    return { dataset, model: { input_shape: src.model.input_shape, ...model },
      training: { ...src.training, epochs: Number($("ft-epochs").value) || src.training.epochs },
      stream: { boundary: false, histograms: false } };
  };

  const lossChart = createLineChart($("ft-loss"), { emptyText: "start a fine-tuning run" });
  const accChart = createLineChart($("ft-acc"), { emptyText: "" });
  const draw = () => {
    const colors = [[SERIES_COLORS[0], SERIES_COLORS[0]], [SERIES_COLORS[1], SERIES_COLORS[1]]];
    const all = runs.map((r, i) => historySeries(r.history, `${r.label} · `, colors[i]));
    const loss = all.flatMap((s) => s.loss.filter((x) => / test /.test(` ${x.label} `)));
    const acc = all.flatMap((s) => s.metric.filter((x) => / test /.test(` ${x.label} `)));
    lossChart.set(loss);
    accChart.set(acc, { yMin: 0, yMax: 1 });
    renderLegend($("ft-loss-legend"), loss);
    renderLegend($("ft-acc-legend"), acc);
    $("ft-curves").dataset.series = String(acc.filter((s) => s.points.length).length);
  };
  const request = frameScheduler(draw);

  const follow = (label, id) => {
    const run = { label, id, history: [], status: "queued" };
    run.stream = api.openJobStream(id, {
      onMessage: (msg) => {
        if (msg.type === "epoch") { const { type, ...rec } = msg; run.history.push(rec); request(); }
        if (msg.type === "status") run.status = msg.status;
        if (msg.type === "done") { run.status = msg.status || "done"; status(); refresh(); }
        if (msg.type === "error" && !msg.recoverable) { run.status = "failed"; $("ft-error").textContent = msg.message || "the run failed"; status(); }
      },
    });
    runs.push(run);
  };
  const status = () => {
    $("ft-status").textContent = runs.map((r) => `${r.label}: job ${r.id.slice(0, 8)} ${r.status}`).join(" · ");
  };

  $("ft-start").addEventListener("click", async () => {
    $("ft-error").textContent = "";
    const job = jobs.find((j) => j.id === sourceSel.value);
    if (!job) { $("ft-error").textContent = "choose a finished run to start from"; return; }
    const copied = [...document.querySelectorAll("#ft-layers input:checked")].map((el) => Number(el.value));
    const freeze = $("ft-freeze").checked;
    for (const r of runs.splice(0)) r.stream.close();
    request();
    try {
      const spec = await buildSpec(job, copied, freeze);
      const tuned = await api.createJob({ ...spec, init_from: { job_id: job.id, layers: copied } });
      follow("from the trained model", tuned.id);
      if ($("ft-compare").checked) {
        // the same network, data and budget from random weights: nothing copied, so nothing frozen
        const scratch = { ...spec, model: { ...spec.model, layers: spec.model.layers.map(({ trainable, ...l }) => l) } };
        follow("from scratch", (await api.createJob(scratch)).id);
      }
      status();
    } catch (e) {
      $("ft-error").textContent = e.message;   // the engine's words (e.g. which layer's shapes differ)
    }
  });
  sourceSel.addEventListener("change", () => { $("ft-limit").value = ""; $("ft-epochs").value = ""; renderLayers(); });
  $("ft-refresh").addEventListener("click", refresh);
  request();
  refresh();
  return { refresh };
}
