// network builder: hidden layers (add/remove/reorder, per-layer options from the catalog), output layer + loss.
// Shapes, parameter counts, warnings, errors and the output heads that fit the task are the engine's
// (state.summary, from POST /api/models/summary); this module only draws them and applies the user's choices.
import { el } from "./draw-util.js";
import { familyOptions, familyParams, paramDefaults, paramFields, selectEl } from "./forms.js";

// layer types that need image input; the 2-D playground hides them
const IMAGE_ONLY = /conv|pool|flatten|reshape|upsample/;

function activationName(a) {
  return a && typeof a === "object" ? a.name : a;
}

/** the layer without explicit weights when its size changes (they no longer fit) */
function resized(layer, next) {
  const { weights, ...rest } = next;
  return layer.units === next.units ? next : rest;
}

/**
 * output layer + loss for a head from the engine's `choices` ({activation, loss, units}); keeps the layer's
 * other options, drops explicit weights when the width changes
 */
export function applyHead(model, head) {
  const layers = model.layers;
  const out = layers[layers.length - 1];
  const fresh = resized(out, { ...out, type: "dense", units: head.units, activation: head.activation });
  return { ...model, layers: [...layers.slice(0, -1), fresh], loss: head.loss };
}

/** the engine's head with this output activation (keeping the loss when one does), or null */
export function headForActivation(choices, activation, loss) {
  const same = (choices || []).filter((c) => c.activation === activation);
  return same.find((c) => c.loss === loss) ?? same[0] ?? null;
}

/** the engine's head with this loss (keeping the activation, then the width, when one does), or null */
export function headForLoss(choices, loss, activation, units) {
  const same = (choices || []).filter((c) => c.loss === loss);
  return same.find((c) => c.activation === activation) ?? same.find((c) => c.units === units) ?? same[0] ?? null;
}

/** "Layer 2: ..." / "Output: ..." for an engine problem {path, message} */
export function problemText(problem, nLayers) {
  const m = /^model\.layers\.(\d+)/.exec(problem.path || "");
  if (!m) return problem.message;
  const i = Number(m[1]);
  return `${i === nLayers - 1 ? "Output" : `Layer ${i + 1}`}: ${problem.message}`;
}

const shapeText = (shape) => (shape ? shape.join("×") : "?");

/** a mark on a layer that starts from explicit weights (a share link's) rather than from its initializer */
const givenBadge = (layer) => (layer.weights
  ? el("span", { class: "badge given", title: "starts from the weights in the link, not from its initializer", text: "given weights" })
  : null);

/** a k-NN model ({type: "knn", k, metric}: no layers, engine/knn.py) rather than a stack of layers */
export const isKnn = (model) => model?.type === "knn";

/** the model as a job spec sends it: a k-NN's options, or the layers and the loss */
export function modelSpec(model) {
  return isKnn(model) ? { type: "knn", k: model.k, metric: model.metric } : { layers: model.layers, loss: model.loss };
}

/** which model and dataset a summary describes: the caller stores it as summary.for */
export function summaryKey(model, dataset) {
  return JSON.stringify(isKnn(model) ? [modelSpec(model), dataset] : [model?.layers, model?.loss, dataset]);
}

// the model kinds the playground offers (issue 15's baselines): a network, a linear classifier (one dense
// layer: the output layer alone, its loss chosen below) and k-NN
const KINDS = [
  { value: "network", label: "neural network" },
  { value: "linear", label: "linear classifier (one dense layer)" },
  { value: "knn", label: "k-nearest neighbours" },
];
const kindOf = (model) => (isKnn(model) ? "knn" : model.layers.length === 1 ? "linear" : "network");

/**
 * mount the builder; state keys read: catalog, model, summary ({for, ...POST /api/models/summary}).
 * onChange(model) is called with a new model dict.
 */
export function mountBuilder(container, store, { onChange, imageLayers = false, baselines = false }) {
  let network = null;   // the last network model, brought back when k-NN is left
  const setKind = (kind) => {
    const { catalog, model } = store.get();
    const dense = { type: "dense", ...paramDefaults(familyParams(catalog.layers, "dense")) };
    if (!isKnn(model)) network = model;
    const base = network || { layers: [dense], loss: Object.keys(catalog.losses)[0] };
    const out = base.layers[base.layers.length - 1];
    if (kind === "knn") onChange({ type: "knn", ...paramDefaults(catalog.knn) });
    else if (kind === "linear") onChange({ ...base, layers: [out] });
    else if (base.layers.length > 1) onChange(base);
    else onChange({ ...base, layers: [{ ...dense, units: 8, activation: "tanh" }, out] });
  };
  const kindPicker = (model) => el("div", { class: "field compact model-kind" },
    el("label", { for: "model-kind", text: "model" }),
    selectEl(KINDS, kindOf(model), setKind, { id: "model-kind", "data-param": "model-kind" }));

  const renderKnn = (catalog, model) => {
    container.replaceChildren(...(baselines ? [kindPicker(model)] : []),
      el("div", { class: "layer-card knn-card" },
        el("div", { class: "layer-head" }, el("strong", { text: "k-nearest neighbours" }),
          el("span", { class: "param-count", text: "0 params: stores the training points" })),
        paramFields(catalog.knn, model, (v) => onChange({ ...v, type: "knn" }), { compact: true })),
      el("ul", { class: "warnings", "aria-live": "polite" }));
    paintSummary();
  };

  const render = () => {
    const s = store.get();
    const { catalog, model } = s;
    if (!catalog || !model) return;
    if (isKnn(model)) { renderKnn(catalog, model); return; }
    const layerTypes = familyOptions(catalog.layers).filter((o) => imageLayers || !IMAGE_ONLY.test(o.value));
    const layers = model.layers;
    const hidden = layers.slice(0, -1);
    const out = layers[layers.length - 1];
    const setLayers = (newLayers, patch = {}) => onChange({ ...model, ...patch, layers: newLayers });

    const list = el("ol", { class: "layer-list" });
    hidden.forEach((layer, i) => {
      const params = familyParams(catalog.layers, layer.type);
      const typeSel = selectEl(layerTypes, layer.type, (type) => {
        const fresh = { type, ...paramDefaults(familyParams(catalog.layers, type)) };
        if (fresh.units !== undefined && layer.units) fresh.units = layer.units;
        if (fresh.activation !== undefined && layer.activation) fresh.activation = layer.activation;
        setLayers(layers.map((l, j) => (j === i ? fresh : l)));
      }, { "aria-label": `layer ${i + 1} type` });
      const fields = paramFields(params, layer,
        (v) => setLayers(layers.map((l, j) => (j === i ? resized(l, {
          ...v, type: layer.type, ...(l.trainable === false ? { trainable: false } : {}) }) : l))),
        { compact: true, catalog });
      const move = (d) => {
        const copy = layers.slice();
        [copy[i], copy[i + d]] = [copy[i + d], copy[i]];
        setLayers(copy);
      };
      // any layer can be frozen (the catalog's layer_flags: trainable); the engine keeps it bit-identical
      const frozen = layer.trainable === false;
      const freeze = el("label", { class: "freeze", title: "frozen: training takes no step on this layer's weights" },
        el("input", { type: "checkbox", checked: !frozen, "aria-label": `layer ${i + 1} trainable`,
          onchange: (ev) => setLayers(layers.map((l, j) => {
            if (j !== i) return l;
            const { trainable, ...rest } = l;
            return ev.target.checked ? rest : { ...rest, trainable: false };
          })) }),
        frozen ? " frozen" : " trainable");
      list.append(el("li", { class: `layer-card${frozen ? " frozen" : ""}`, dataset: { index: String(i) } },
        el("div", { class: "layer-head" },
          el("strong", { text: `Layer ${i + 1}` }), typeSel,
          el("span", { class: "param-count", dataset: { row: String(i) }, text: "…" }),
          el("span", { class: "layer-tools" },
            el("button", { type: "button", class: "icon", title: "move up", "aria-label": "move up", disabled: i === 0, onclick: () => move(-1), text: "↑" }),
            el("button", { type: "button", class: "icon", title: "move down", "aria-label": "move down", disabled: i === hidden.length - 1, onclick: () => move(1), text: "↓" }),
            el("button", { type: "button", class: "icon danger", title: "remove layer", "aria-label": "remove layer", onclick: () => setLayers(layers.filter((_, j) => j !== i)), text: "×" }))),
        givenBadge(layer), freeze, fields));
    });

    const addBtn = el("button", {
      type: "button", class: "add-layer",
      onclick: () => {
        // a new layer repeats the last hidden one (or the catalog's dense defaults), without its weights
        const { weights, ...last } = hidden[hidden.length - 1] || { type: "dense", ...paramDefaults(familyParams(catalog.layers, "dense")) };
        setLayers([...hidden, { ...last }, out]);
      },
      text: "+ Add layer",
    });

    // output layer: activation and loss selectable; the width and the matching loss/activation are the
    // engine's heads for the dataset's task (summary.output.choices)
    const choices = () => store.get().summary?.output?.choices || [];
    const outAct = activationName(out.activation) || "linear";
    const outSel = selectEl(familyOptions(catalog.activations), outAct, (act) => {
      const head = headForActivation(choices(), act, model.loss);
      onChange(head ? applyHead(model, head) : { ...model, layers: [...hidden, { ...out, activation: act }] });
    }, { "aria-label": "output activation", "data-param": "output-activation" });
    const lossSel = selectEl(familyOptions(catalog.losses), model.loss, (loss) => {
      const head = headForLoss(choices(), loss, outAct, out.units);
      onChange(head ? applyHead(model, head) : { ...model, loss });
    }, { "aria-label": "loss", "data-param": "loss" });
    const lossEntry = catalog.losses?.[model.loss] || {};
    const outCard = el("div", { class: "layer-card output" },
      el("div", { class: "layer-head" },
        el("strong", { text: "Output" }),
        el("span", { text: `${out.units} unit${out.units === 1 ? "" : "s"}` }),
        el("span", { class: "param-count", dataset: { row: String(layers.length - 1), output: "true" }, text: "…" }),
        givenBadge(out)),
      el("div", { class: "fields" },
        el("div", { class: "field compact" }, el("label", { text: "activation" }), outSel),
        el("div", { class: "field compact" }, el("label", { text: "loss" }), lossSel)),
      el("p", { class: "formula", "data-formula": "loss", text: lossEntry.formula || lossEntry.doc || "" }));

    container.replaceChildren(
      ...(baselines ? [kindPicker(model)] : []),
      el("div", { class: "builder-summary" },
        el("span", { class: "shape-line" }), el("span", { class: "param-total" })),
      list, addBtn, outCard, el("ul", { class: "warnings", "aria-live": "polite" }));
    paintSummary();
  };

  // the engine's numbers are painted into the rendered cards, never re-rendering them: a summary that
  // lands while someone types in a field keeps the field, its value and its focus
  const paintSummary = () => {
    const s = store.get();
    const { model } = s;
    if (!s.catalog || !model || !container.firstChild) return;
    // a summary of an older model (an edit is on its way to the engine) is not shown
    const summary = s.summary;
    const current = Boolean(summary) && summary.for === summaryKey(model, s.dataset);
    if (isKnn(model)) {   // one card, no layers: only the engine's refusals (k above the training rows, ...)
      container.querySelector(".warnings").replaceChildren(...(current ? summary.errors : [])
        .map((p) => el("li", { class: "bad", text: `${p.path}: ${p.message}` })));
      container.dataset.pending = current ? "false" : "true";
      return;
    }
    const rows = current ? summary.layers : [];
    for (const span of container.querySelectorAll(".param-count[data-row]")) {
      const row = rows[Number(span.dataset.row)];
      const known = row && row.params !== null && row.params !== undefined;
      span.textContent = !known ? "…" : span.dataset.output
        ? `${row.params.toLocaleString()} params` : `${row.params.toLocaleString()} params → ${shapeText(row.output_shape)}`;
      span.title = known ? `${row.text}: ${row.params.toLocaleString()} trainable parameters; output ${shapeText(row.output_shape)}` : "";
    }
    const layers = model.layers;
    const out = layers[layers.length - 1];
    const nHidden = layers.slice(0, -1).filter((l) => l.type !== "flatten").length; // flatten only reshapes
    const input = current ? shapeText(summary.input_shape) : "…";
    container.querySelector(".shape-line").textContent =
      `${input} inputs → ${nHidden} hidden layer${nHidden === 1 ? "" : "s"} → ${out.units} output${out.units === 1 ? "" : "s"}`;
    container.querySelector(".param-total").textContent = current ? `${summary.n_params.toLocaleString()} parameters` : "… parameters";
    const problems = current ? [
      ...summary.errors.map((p) => ({ cls: "bad", text: problemText(p, layers.length) })),
      ...summary.warnings.map((p) => ({ cls: "", text: problemText(p, layers.length) })),
    ] : [];
    problems.push(...(s.builderNotes || []).map((t) => ({ cls: "", text: t })));
    container.querySelector(".warnings").replaceChildren(...problems.map((p) => el("li", { class: p.cls, text: p.text })));
    container.dataset.pending = current ? "false" : "true";
  };

  store.subscribe((s, patch) => {
    if (["model", "catalog"].some((k) => k in patch)) render();
    else if (["dataset", "summary", "builderNotes"].some((k) => k in patch)) paintSummary();
  });
  render();
  return { render };
}
