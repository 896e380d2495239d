// network builder: hidden layers (add/remove/reorder, per-layer options from the catalog), output layer + loss,
// parameter counts and warnings for choices that cannot work.
import { el } from "./draw-util.js";
import { familyOptions, familyParams, paramDefaults, paramFields, selectEl } from "./forms.js";

// layer types that need image input; the 2-D playground hides them
const IMAGE_ONLY = /conv|pool|flatten/;

function pick(names, preferred) {
  return preferred.find((p) => names.includes(p)) ?? names[0];
}

export function lossNames(catalog) {
  return familyOptions(catalog?.losses).map((o) => o.value);
}

/** the loss that fits the output: sigmoid+1 unit -> binary, softmax -> (sparse) categorical, regression -> mse */
export function fittingLoss(catalog, task, activation) {
  const names = lossNames(catalog);
  if (task === "regression") return pick(names, ["mean_squared_error", "mse", "huber"]);
  if (activation === "sigmoid") return pick(names, ["binary_crossentropy"]);
  return pick(names, ["sparse_categorical_crossentropy", "categorical_crossentropy"]);
}

/** output layer for the task: units from the number of classes */
export function outputLayer(catalog, task, nClasses, activation) {
  const acts = familyOptions(catalog?.activations).map((o) => o.value);
  let act = activation;
  if (!act || !acts.includes(act)) act = task === "regression" ? pick(acts, ["linear"]) : pick(acts, ["softmax"]);
  const units = task === "regression" || (act === "sigmoid" && nClasses <= 2) ? 1 : Math.max(2, nClasses || 2);
  return { type: "dense", units, activation: act };
}

const prod = (shape) => shape.reduce((a, b) => a * b, 1);

function convSize(n, k, stride, padding) {
  return padding === "same" ? Math.ceil(n / stride) : Math.floor((n - k) / stride) + 1;
}

/** per-sample output shape and trainable parameter count of one layer given its input shape */
export function layerShape(layer, inShape) {
  const flatIn = prod(inShape);
  if (layer.type === "conv2d") {
    const [c, h, w] = inShape.length === 3 ? inShape : [1, 1, flatIn];
    const k = Array.isArray(layer.kernel_size) ? layer.kernel_size : [layer.kernel_size ?? 3, layer.kernel_size ?? 3];
    const st = Array.isArray(layer.strides) ? layer.strides : [layer.strides ?? 1, layer.strides ?? 1];
    const f = layer.filters ?? 8;
    return { shape: [f, convSize(h, k[0], st[0], layer.padding), convSize(w, k[1], st[1], layer.padding)], params: f * c * k[0] * k[1] + f };
  }
  if (/pool/.test(layer.type)) {
    const [c, h, w] = inShape.length === 3 ? inShape : [1, 1, flatIn];
    const p = layer.pool_size ?? 2;
    const st = layer.strides ?? p;
    return { shape: [c, Math.floor((h - p) / st) + 1, Math.floor((w - p) / st) + 1], params: 0 };
  }
  if (layer.type === "flatten") return { shape: [flatIn], params: 0 };
  if (layer.units !== undefined) {
    const pieces = layer.pieces ?? 1; // maxout: one kernel per piece
    return { shape: [layer.units], params: (flatIn * layer.units + layer.units) * pieces };
  }
  if (layer.type === "batchnorm") return { shape: inShape, params: 2 * (inShape.length === 3 ? inShape[0] : flatIn) };
  return { shape: inShape, params: 0 };
}

/** trainable parameters of one layer given its input width (flat input) */
export function layerParamCount(layer, nIn) {
  return layerShape(layer, [nIn]).params;
}

function activationName(a) {
  return a && typeof a === "object" ? a.name : a;
}

/** human warnings for a model: each a short sentence saying what goes wrong and what to do */
export function modelWarnings(model, { task, nClasses, nFeatures, catalog }) {
  const w = [];
  const layers = model.layers || [];
  const out = layers[layers.length - 1];
  if (!out) return ["The network needs an output layer."];
  const zeroGrad = new Set(Object.entries(catalog?.activations || {})
    .filter(([, e]) => e && e.zero_gradient).map(([n]) => n));
  zeroGrad.add("step");
  layers.forEach((l, i) => {
    const a = activationName(l.activation);
    if (zeroGrad.has(a)) w.push(`Layer ${i + 1} uses “${a}”: its gradient is zero everywhere, so no layer up to it can learn.`);
    if (i < layers.length - 1 && a === "softmax") w.push(`Layer ${i + 1} is hidden but uses softmax; use relu or tanh in hidden layers.`);
    if (l.kernel_initializer === "zeros" || l.kernel_initializer === "ones" || l.kernel_initializer === "constant") {
      if (i < layers.length - 1 && (l.units ?? 0) > 1) w.push(`Layer ${i + 1} starts with identical weights (${l.kernel_initializer}): its neurons stay identical; use glorot_uniform or he_normal.`);
    }
  });
  const outAct = activationName(out.activation);
  const loss = model.loss || "";
  if (outAct === "softmax" && out.units === 1) w.push("Softmax over 1 unit always outputs 1: use sigmoid for one unit or give it one unit per class.");
  if (task === "classification") {
    if (/binary/.test(loss) && (out.units !== 1 || outAct !== "sigmoid")) w.push(`Loss ${loss} expects one sigmoid output unit; the output has ${out.units} ${outAct} unit(s).`);
    if (/categorical/.test(loss) && outAct !== "softmax") w.push(`Loss ${loss} expects a softmax output; the output uses ${outAct}.`);
    if (/categorical/.test(loss) && out.units !== nClasses) w.push(`Loss ${loss} needs ${nClasses} output units (one per class); the output has ${out.units}.`);
    if (nClasses > 2 && outAct === "sigmoid") w.push(`${nClasses} classes need a softmax output with ${nClasses} units.`);
    if (/squared|mse|mae|absolute|huber/.test(loss)) w.push(`Loss ${loss} is for regression; classification learns better with cross-entropy.`);
  }
  if (task === "regression" && /crossentropy/.test(loss)) w.push(`Loss ${loss} is for classification; this dataset is regression: use mean_squared_error.`);
  if (task === "regression" && outAct !== "linear") w.push(`A regression output usually has a linear activation, not ${outAct}.`);
  const hiddenActs = layers.slice(0, -1).filter((l) => l.units !== undefined).map((l) => activationName(l.activation) || "linear");
  const onlyRaw = nFeatures <= 2;
  if (onlyRaw && hiddenActs.every((a) => a === "linear") && task === "classification") {
    w.push("Every layer is linear: the boundary can only be a straight line. Add a nonlinear activation or features like x1².");
  }
  const sig = hiddenActs.filter((a) => a === "sigmoid").length;
  if (sig >= 5) w.push(`${sig} sigmoid layers in a row: gradients shrink layer by layer (watch the gradient norms); try relu or he_normal.`);
  return w;
}

/**
 * mount the builder; state keys read: catalog, model, preview (task/n_classes), dataset (features).
 * onChange(model) is called with a new model dict.
 */
export function mountBuilder(container, store, { onChange, imageLayers = false, inputShape = null }) {
  const render = () => {
    const s = store.get();
    const { catalog, model } = s;
    if (!catalog || !model) return;
    const task = s.preview?.task || "classification";
    const nClasses = s.preview?.n_classes || 2;
    const nFeatures = (s.dataset?.features || ["x1", "x2"]).length;
    const input = inputShape || [nFeatures];
    const layerTypes = familyOptions(catalog.layers).filter((o) => imageLayers || !IMAGE_ONLY.test(o.value));
    const layers = model.layers;
    const hidden = layers.slice(0, -1);
    const out = layers[layers.length - 1];
    const setLayers = (newLayers, patch = {}) => onChange({ ...model, ...patch, layers: newLayers });

    const list = el("ol", { class: "layer-list" });
    let shape = input;
    let total = 0;
    hidden.forEach((layer, i) => {
      const next = layerShape(layer, shape);
      const count = next.params;
      total += count;
      const params = familyParams(catalog.layers, layer.type);
      const typeSel = selectEl(layerTypes, layer.type, (type) => {
        const fresh = { type, ...paramDefaults(familyParams(catalog.layers, type)) };
        if (fresh.units !== undefined && layer.units) fresh.units = layer.units;
        if (fresh.activation !== undefined && layer.activation) fresh.activation = layer.activation;
        setLayers(layers.map((l, j) => (j === i ? fresh : l)));
      }, { "aria-label": `layer ${i + 1} type` });
      const fields = paramFields(params, layer, (v) => setLayers(layers.map((l, j) => (j === i ? { ...v, type: layer.type } : l))), { compact: true });
      const move = (d) => {
        const copy = layers.slice();
        [copy[i], copy[i + d]] = [copy[i + d], copy[i]];
        setLayers(copy);
      };
      list.append(el("li", { class: "layer-card", dataset: { index: String(i) } },
        el("div", { class: "layer-head" },
          el("strong", { text: `Layer ${i + 1}` }), typeSel,
          el("span", { class: "param-count", title: `${count.toLocaleString()} trainable parameters; output shape ${next.shape.join("×")}`,
            text: `${count.toLocaleString()} params → ${next.shape.join("×")}` }),
          el("span", { class: "layer-tools" },
            el("button", { type: "button", class: "icon", title: "move up", "aria-label": "move up", disabled: i === 0, onclick: () => move(-1), text: "↑" }),
            el("button", { type: "button", class: "icon", title: "move down", "aria-label": "move down", disabled: i === hidden.length - 1, onclick: () => move(1), text: "↓" }),
            el("button", { type: "button", class: "icon danger", title: "remove layer", "aria-label": "remove layer", onclick: () => setLayers(layers.filter((_, j) => j !== i)), text: "×" }))),
        fields));
      shape = next.shape;
    });

    const addBtn = el("button", {
      type: "button", class: "add-layer",
      onclick: () => {
        const type = layerTypes.find((o) => o.value === "dense")?.value ?? layerTypes[0].value;
        const fresh = { type, ...paramDefaults(familyParams(catalog.layers, type)) };
        if (fresh.activation !== undefined) fresh.activation = familyOptions(catalog.activations).some((o) => o.value === "tanh") ? "tanh" : fresh.activation;
        if (fresh.units !== undefined) fresh.units = 4;
        setLayers([...hidden, fresh, out]);
      },
      text: "+ Add layer",
    });

    // output layer: units follow the task, activation and loss selectable
    const outCount = layerShape(out, shape).params;
    total += outCount;
    const acts = familyOptions(catalog.activations);
    const outSel = selectEl(acts, activationName(out.activation), (act) => {
      const o = { ...out, ...outputLayer(catalog, task, nClasses, act) };
      setLayers([...hidden, o], { loss: fittingLoss(catalog, task, act) });
    }, { "aria-label": "output activation", "data-param": "output-activation" });
    const lossSel = selectEl(familyOptions(catalog.losses), model.loss, (loss) => onChange({ ...model, loss }),
      { "aria-label": "loss", "data-param": "loss" });
    const outCard = el("div", { class: "layer-card output" },
      el("div", { class: "layer-head" },
        el("strong", { text: "Output" }),
        el("span", { text: `${out.units} unit${out.units === 1 ? "" : "s"}` }),
        el("span", { class: "param-count", text: `${outCount.toLocaleString()} params` })),
      el("div", { class: "fields" },
        el("div", { class: "field compact" }, el("label", { text: "activation" }), outSel),
        el("div", { class: "field compact" }, el("label", { text: "loss" }), lossSel)));

    const warnings = modelWarnings(model, { task, nClasses, nFeatures: prod(input), catalog });
    if (input.length > 1) {
      let sh = input;
      layers.forEach((l, i) => {
        if (l.units !== undefined && sh.length > 1) warnings.push(`Layer ${i + 1} (${l.type}) needs a flat input: add a flatten layer before it.`);
        if ((l.type === "conv2d" || /pool/.test(l.type)) && sh.length !== 3) warnings.push(`Layer ${i + 1} (${l.type}) needs an image input (channels × height × width); move it before the flatten layer.`);
        sh = layerShape(l, sh).shape;
      });
      if (sh.some((d) => d < 1)) warnings.push("The image becomes smaller than one pixel: remove a pooling layer or use padding “same”.");
    }
    const nHidden = hidden.filter((l) => l.type !== "flatten").length; // flatten only reshapes
    const warnBox = el("ul", { class: "warnings", "aria-live": "polite" }, warnings.map((t) => el("li", { text: t })));
    container.replaceChildren(
      el("div", { class: "builder-summary" },
        el("span", { text: `${input.join("×")} inputs → ${nHidden} hidden layer${nHidden === 1 ? "" : "s"} → ${out.units} output${out.units === 1 ? "" : "s"}` }),
        el("span", { class: "param-total", text: `${total.toLocaleString()} parameters` })),
      list, addBtn, outCard, warnBox);
  };
  store.subscribe((s, patch) => {
    if ("model" in patch || "catalog" in patch || ("preview" in patch && taskChanged(patch.preview)) || "dataset" in patch) render();
  });
  let lastTask = "";
  function taskChanged(p) {
    const key = `${p?.task}|${p?.n_classes}`;
    const changed = key !== lastTask;
    lastTask = key;
    return changed;
  }
  render();
  return { render };
}
