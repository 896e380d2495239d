// the first screen's compact controls (TensorFlow Playground's preset lists and sliders): learning rate,
// regularization and its rate, batch size, speed; dataset, noise and test ratio. Ranges are the catalog's
// Params (the engine's); the full forms stay in the "advanced" panels below.
import { el } from "./draw-util.js";
import { familyParams } from "./forms.js";
import { playgroundDatasets, defaultDataset } from "./datapanel.js";

const LR_CHOICES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const BATCHES = [1, 2, 5, 10, 16, 32, 64, 128, null];            // null: the full batch
const SPEEDS = [1, 2, 5, 10, 20, 50, 100, null];                // epochs per second; null: full speed

const find = (list, name) => (list || []).find((p) => p.name === name);
const inRange = (p, v) => p && v > p.min - (p.min_exclusive ? 0 : 1e-12) && (!p.min_exclusive || v > p.min) && v <= p.max;

/** the value's <option> list with the current value added when it is not one of the presets */
function options(values, current, label) {
  const list = values.includes(current) ? values : [...values, current].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  return list.map((v) => el("option", { value: v === null ? "" : String(v), text: label(v), selected: v === current }));
}

function field(label, control, attrs = {}) {
  return el("label", { class: "quick-field", ...attrs }, el("span", { text: label }), control);
}

/**
 * mount the compact training controls. handlers: onTraining(training) for a new training dict,
 * onLive(patch) for values a running job takes without a reset ({learning_rate, l1, l2, batch_size}),
 * onSpeed(epochsPerSecond | null).
 */
export function mountQuickControls(container, store, { onTraining, onLive, onSpeed }) {
  const render = () => {
    const { catalog, training, stream } = store.get();
    if (!catalog || !training) return;
    const lrParam = find(familyParams(catalog.optimizers, training.optimizer.name), "learning_rate");
    const regParams = Array.isArray(catalog.regularization) ? catalog.regularization : catalog.regularization?.params || [];
    const reg = training.regularization || {};
    const kind = reg.l1 ? "l1" : reg.l2 ? "l2" : "";
    const rate = kind ? reg[kind] : 0;

    const lrMsg = el("span", { class: "quick-msg", role: "alert" });
    const lrSel = el("select", { id: "quick-lr", "aria-label": "learning rate" },
      options(LR_CHOICES.filter((v) => !lrParam || inRange(lrParam, v)), training.optimizer.learning_rate, String),
      el("option", { value: "custom", text: "other…" }));
    const lrCustom = el("input", { type: "number", step: "any", id: "quick-lr-custom", "aria-label": "learning rate value",
      hidden: true, min: lrParam?.min, max: lrParam?.max, placeholder: "value" });
    const setLr = (v) => {
      // refused here, with the range, before anything reaches the engine (which checks the same Param)
      if (!Number.isFinite(v) || (lrParam && !inRange(lrParam, v))) {
        lrMsg.textContent = `learning rate must be ${lrParam?.min_exclusive ? ">" : ">="} ${lrParam?.min} and <= ${lrParam?.max}`;
        lrCustom.classList.add("invalid");
        return;
      }
      lrMsg.textContent = "";
      onTraining({ ...training, optimizer: { ...training.optimizer, learning_rate: v } }, { learning_rate: v });
    };
    lrSel.addEventListener("change", () => {
      if (lrSel.value === "custom") { lrCustom.hidden = false; lrCustom.focus(); return; }
      setLr(Number(lrSel.value));
    });
    lrCustom.addEventListener("change", () => setLr(Number(lrCustom.value)));

    const kindSel = el("select", { id: "quick-reg", "aria-label": "regularization" },
      [["", "none"], ["l1", "L1"], ["l2", "L2"]].map(([v, t]) => el("option", { value: v, text: t, selected: v === kind })));
    const rateParam = find(regParams, kind || "l2");
    const rateSel = el("select", { id: "quick-reg-rate", "aria-label": "regularization rate", disabled: !kind },
      options(REG_RATES.filter((v) => !rateParam || inRange(rateParam, v)), rate, String));
    const setReg = (k, r) => {
      const next = { ...reg, l1: k === "l1" ? r : 0, l2: k === "l2" ? r : 0 };
      onTraining({ ...training, regularization: next }, { l1: next.l1, l2: next.l2 });
    };
    kindSel.addEventListener("change", () => setReg(kindSel.value, kindSel.value ? (rate || 0.001) : 0));
    rateSel.addEventListener("change", () => setReg(kind, Number(rateSel.value)));

    const batchSel = el("select", { id: "quick-batch", "aria-label": "batch size" },
      options(BATCHES, training.batch_size ?? null, (v) => (v === null ? "full" : String(v))));
    batchSel.addEventListener("change", () => {
      const v = batchSel.value === "" ? null : Number(batchSel.value);
      // a running job takes a size; "full" is any size at least the training set's (the engine caps it)
      const maxBatch = find(Array.isArray(catalog.training) ? catalog.training : catalog.training?.params, "batch_size")?.max;
      onTraining({ ...training, batch_size: v }, { batch_size: v ?? maxBatch ?? 65536 });
    });

    const pace = stream?.max_epochs_per_second ?? null;
    const speedSel = el("select", { id: "quick-speed", "aria-label": "speed in epochs per second" },
      options(SPEEDS, pace, (v) => (v === null ? "full speed" : `${v}/s`)));
    speedSel.addEventListener("change", () => onSpeed(speedSel.value === "" ? null : Number(speedSel.value)));

    container.replaceChildren(
      field("learning rate", el("span", { class: "quick-pair" }, lrSel, lrCustom), { "data-hide": "optimizer" }),
      field("regularization", kindSel, { "data-hide": "regularization" }),
      field("reg. rate", rateSel, { "data-hide": "regularization" }),
      field("batch size", batchSel, { "data-hide": "optimizer" }),
      field("speed", speedSel, { "data-hide": "speed" }),
      lrMsg);
  };
  store.subscribe((_, patch) => { if ("training" in patch || "catalog" in patch || "stream" in patch) render(); });
  render();
}

/** the data column's compact controls: dataset, noise and test ratio sliders, regenerate */
export function mountQuickData(container, store, { onChange }) {
  const render = () => {
    const { catalog, dataset } = store.get();
    if (!catalog || !dataset) return;
    const opts = playgroundDatasets(catalog).filter((o) => catalog.datasets[o.value]?.kind !== "inline" || o.value === dataset.name);
    const sel = el("select", { id: "quick-dataset", "aria-label": "dataset" },
      opts.map((o) => el("option", { value: o.value, text: o.label || o.value, selected: o.value === dataset.name })));
    sel.addEventListener("change", () => onChange(defaultDataset(catalog, sel.value, dataset.features)));
    const params = familyParams(catalog.datasets, dataset.name);
    const slider = (name, label, fmt) => {
      const p = find(params, name);
      if (!p) return null;
      const out = el("output", { text: fmt(dataset[name] ?? p.default) });
      const input = el("input", { type: "range", id: `quick-${name}`, min: p.min, max: p.max, step: (p.max - p.min) / 20,
        value: dataset[name] ?? p.default, "aria-label": label });
      input.addEventListener("input", () => { out.textContent = fmt(Number(input.value)); });
      input.addEventListener("change", () => onChange({ ...dataset, [name]: Number(input.value) }));
      return el("label", { class: "quick-slider" }, el("span", {}, `${label} `, out), input);
    };
    const hasSeed = Boolean(find(params, "seed"));
    container.replaceChildren(
      el("div", { class: "quick-row" }, sel,
        el("button", { type: "button", id: "quick-regenerate", disabled: !hasSeed, text: "Regenerate",
          onclick: () => onChange({ ...dataset, seed: ((dataset.seed ?? 0) + 1) % 2147483647 }) })),
      slider("noise", "noise", (v) => v.toFixed(2)),
      slider("test_ratio", "test data", (v) => `${Math.round(v * 100)}%`));
  };
  store.subscribe((_, patch) => { if ("dataset" in patch || "catalog" in patch) render(); });
  render();
}
