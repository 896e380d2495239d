// training controls: optimizer + hyperparameters, learning rate, batch mode, epochs, l1/l2, schedule,
// early stopping, seed. Everything is generated from the catalog; state.training holds the REST dict.
import { el } from "./draw-util.js";
import { familyOptions, familyParams, paramDefaults, paramFields, paramInput, selectEl } from "./forms.js";

const BATCH_MODES = [
  { value: "full", label: "full batch" },
  { value: "mini", label: "mini-batch" },
  { value: "stochastic", label: "stochastic (1)" },
];

export function batchMode(batchSize) {
  if (batchSize === null || batchSize === undefined) return "full";
  return batchSize === 1 ? "stochastic" : "mini";
}

/** a catalog section's params: catalog[key] may be a Param list or {params: [...]} */
function sectionParams(catalog, key) {
  const v = catalog?.[key];
  if (Array.isArray(v)) return v;
  return v?.params || [];
}

const FALLBACK_REG = [
  { name: "l1", type: "float", default: 0, min: 0, max: 1, help: "L1 penalty rate on weights" },
  { name: "l2", type: "float", default: 0, min: 0, max: 1, help: "L2 penalty rate on weights" },
];
const FALLBACK_ES = [{ name: "patience", type: "int", default: 10, min: 0, max: 100000 }];

/** default training dict from the catalog */
export function defaultTraining(catalog, overrides = {}) {
  const opts = familyOptions(catalog?.optimizers).map((o) => o.value);
  const optName = opts.includes("adam") ? "adam" : opts[0];
  const sched = familyOptions(catalog?.schedules).map((o) => o.value);
  return {
    optimizer: { name: optName, ...paramDefaults(familyParams(catalog?.optimizers, optName)), learning_rate: 0.03 },
    batch_size: 32,
    epochs: 300,
    regularization: { l1: 0, l2: 0 },
    lr_schedule: { name: sched.includes("constant") ? "constant" : sched[0] },
    early_stopping: null,
    validation_split: 0,
    seed: 0,
    ...overrides,
  };
}

/**
 * mount into `container`; onChange(training) for every edit, onLearningRate(lr) additionally when the
 * learning rate changes (the caller forwards it to a running job).
 */
export function mountControls(container, store, { onChange, onLearningRate }) {
  const render = () => {
    const { catalog, training } = store.get();
    if (!catalog || !training) return;
    const set = (patch) => onChange({ ...training, ...patch });
    const opt = training.optimizer;
    const optParams = familyParams(catalog.optimizers, opt.name);
    const lrParam = optParams.find((p) => p.name === "learning_rate")
      || { name: "learning_rate", type: "float", default: 0.01, min: 0, max: 10 };

    const optSel = selectEl(familyOptions(catalog.optimizers), opt.name, (name) => {
      const fresh = { name, ...paramDefaults(familyParams(catalog.optimizers, name)) };
      fresh.learning_rate = opt.learning_rate ?? fresh.learning_rate;
      set({ optimizer: fresh });
    }, { id: "optimizer", "data-param": "optimizer" });

    const lrField = paramInput(lrParam, opt.learning_rate, (lr) => {
      set({ optimizer: { ...opt, learning_rate: lr } });
      onLearningRate(lr);
    });
    lrField.classList.add("lr-field");
    const hyper = paramFields(optParams, opt, (v) => set({ optimizer: { ...v, name: opt.name } }), { skip: ["learning_rate"], compact: true });

    const mode = batchMode(training.batch_size);
    const modeSel = selectEl(BATCH_MODES, mode, (m) => {
      set({ batch_size: m === "full" ? null : m === "stochastic" ? 1 : 32 });
    }, { id: "batch-mode", "data-param": "batch_mode" });
    const sizeInput = paramInput({ name: "batch_size", type: "int", min: 2, max: 65536, default: 32 }, training.batch_size ?? 32,
      (v) => set({ batch_size: v }), { compact: true });
    sizeInput.hidden = mode !== "mini";

    const trainingParams = sectionParams(catalog, "training");
    const epochsParam = trainingParams.find((p) => p.name === "epochs") || { name: "epochs", type: "int", min: 1, max: 100000, default: 100 };
    const seedParam = trainingParams.find((p) => p.name === "seed") || { name: "seed", type: "int", min: 0, max: 2 ** 31 - 1, default: 0 };

    const regParams = sectionParams(catalog, "regularization").length ? sectionParams(catalog, "regularization") : FALLBACK_REG;
    const reg = paramFields(regParams.filter((p) => p.name === "l1" || p.name === "l2"), training.regularization || {},
      (v) => set({ regularization: { ...training.regularization, ...v } }), { compact: true });

    const sched = training.lr_schedule || { name: "constant" };
    const schedSel = selectEl(familyOptions(catalog.schedules), sched.name, (name) => {
      set({ lr_schedule: { name, ...paramDefaults(familyParams(catalog.schedules, name)) } });
    }, { id: "lr-schedule", "data-param": "lr_schedule" });
    const schedFields = paramFields(familyParams(catalog.schedules, sched.name), sched,
      (v) => set({ lr_schedule: { ...v, name: sched.name } }), { compact: true });

    const esParams = sectionParams(catalog, "early_stopping").length ? sectionParams(catalog, "early_stopping") : FALLBACK_ES;
    const es = training.early_stopping;
    const esToggle = el("input", { type: "checkbox", id: "early-stopping" });
    esToggle.checked = Boolean(es);
    esToggle.addEventListener("change", () => set({
      early_stopping: esToggle.checked ? { ...paramDefaults(esParams), monitor: "test_loss", patience: 30 } : null,
    }));
    const esFields = es ? paramFields(esParams, es, (v) => set({ early_stopping: v }), { compact: true }) : el("div");

    container.replaceChildren(
      el("div", { class: "fields" },
        el("div", { class: "field compact" }, el("label", { for: "optimizer", text: "optimizer" }), optSel),
        lrField),
      hyper,
      el("div", { class: "fields" },
        el("div", { class: "field compact" }, el("label", { for: "batch-mode", text: "batch" }), modeSel),
        sizeInput,
        paramInput(epochsParam, training.epochs, (v) => set({ epochs: v }), { compact: true }),
        paramInput(seedParam, training.seed, (v) => set({ seed: v }), { compact: true })),
      reg,
      el("div", { class: "fields" },
        el("div", { class: "field compact" }, el("label", { for: "lr-schedule", text: "lr schedule" }), schedSel)),
      schedFields,
      el("div", { class: "field check" }, esToggle, el("label", { for: "early-stopping", text: "early stopping" })),
      esFields);
  };
  store.subscribe((_, patch) => { if ("training" in patch || "catalog" in patch) render(); });
  render();
}
