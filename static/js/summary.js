// the engine's view of the model being built (POST /api/models/summary): shapes, parameter counts,
// warnings, errors and the output heads that fit the dataset's task. Lands in state.summary; the output
// layer follows the task when the dataset changes, and explicit weights that no longer fit are dropped.
import * as api from "./api.js";
import { applyHead, isKnn, modelSpec, summaryKey } from "./builder.js";

const DEBOUNCE_MS = 120;

/** text naming a layer by its index: "Layer 2" or "Output" */
const layerName = (i, last) => (i === last ? "Output" : `Layer ${i + 1}`);

/**
 * the model with the engine's suggested output head when it should follow the task (`refit`: the task or
 * its classes changed, or the output is a placeholder), and without the explicit weights the engine reports
 * stale; null when nothing changes. A model from a share link is otherwise kept as given, errors and all.
 */
export function fitToSummary(model, summary, { refit }) {
  if (isKnn(model)) return null;   // no output layer to fit, no weights to drop
  let next = model;
  const notes = [];
  const last = model.layers.length - 1;
  const out = summary.output;
  if (out && !out.fits && refit) {
    next = applyHead(next, { units: out.layer.units, activation: out.layer.activation, loss: out.loss });
  }
  const stale = summary.layers.filter((r) => r.weights === "stale").map((r) => r.index);
  if (stale.length) {
    next = { ...next, layers: next.layers.map((l, i) => { if (!stale.includes(i)) return l; const { weights, ...rest } = l; return rest; }) };
    notes.push(...stale.map((i) => `${layerName(i, last)}: its explicit weights no longer fit its size and were dropped.`));
  }
  return next === model ? null : { model: next, notes };
}

/**
 * keep state.summary in step with state.model / state.dataset. onModel(model) stores a fitted model.
 * fresh: the model's output layer is a placeholder, so the first summary's suggestion replaces it.
 */
export function createSummarizer(store, { onModel, fresh = false }) {
  let timer = null;
  let seq = 0;
  let lastTask = null;       // "task|classes|targets" of the last summary: a change re-fits the output layer
  let placeholder = fresh;

  let inflight = null;       // the refresh under way, if any
  const refresh = () => {
    timer = null;
    const mine = ask().finally(() => { if (inflight === mine) inflight = null; });   // not a newer one's
    inflight = mine;
    return mine;
  };

  const ask = async () => {
    const mine = ++seq;
    const { model, dataset } = store.get();
    let summary;
    try {
      summary = await api.summarizeModel({ model: modelSpec(model), dataset });
    } catch (e) {
      if (mine === seq) store.update({ builderNotes: [`Cannot check the model: ${e.message}`] });
      return;
    }
    // a newer refresh, or a model / dataset changed while this one was asked (a preset picked just after the
    // page loaded): its answer is stale, and fitting it would put the old model back
    if (mine !== seq || store.get().model !== model || store.get().dataset !== dataset) return;
    const task = summary.task ? `${summary.task}|${summary.n_classes}|${summary.n_targets}` : null;
    const fitted = fitToSummary(model, summary, { refit: placeholder || (lastTask !== null && task !== null && task !== lastTask) });
    if (task) { lastTask = task; placeholder = false; }
    if (fitted) {
      store.update({ builderNotes: fitted.notes });
      onModel(fitted.model);
      schedule();
      return;
    }
    store.update({ summary: { ...summary, for: summaryKey(model, dataset) } });
  };

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  /** resolves once no summary is scheduled or on its way (a fitted output layer asks once more): Train waits
   * for it, so a run never starts from the placeholder output layer the summary was about to replace */
  async function settled() {
    for (let i = 0; i < 5; i++) {
      if (inflight) await inflight;
      else if (timer !== null) { clearTimeout(timer); await refresh(); }
      else return;
    }
  }
  return { schedule, settled };
}
