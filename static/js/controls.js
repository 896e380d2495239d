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

/** default training dict: every value is the catalog's default; `overrides` is the page's starting experiment */
export function defaultTraining(catalog, overrides = {}) {
  const opts = familyOptions(catalog.optimizers).map((o) => o.value);
  const optName = opts.includes("adam") ? "adam" : opts[0];
  const sched = familyOptions(catalog.schedules).map((o) => o.value);
  const reg = paramDefaults(sectionParams(catalog, "regularization").filter((p) => p.name === "l1" || p.name === "l2"));
  return {
    ...paramDefaults(sectionParams(catalog, "training")),
    optimizer: { name: optName, ...paramDefaults(familyParams(catalog.optimizers, optName)) },
    regularization: reg,
    lr_schedule: { name: sched.includes("constant") ? "constant" : sched[0] },
    early_stopping: null,
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
    const lrParam = optParams.find((p) => p.name === "learning_rate");

    const optSel = selectEl(familyOptions(catalog.optimizers), opt.name, (name) => {
      const fresh = { name, ...paramDefaults(familyParams(catalog.optimizers, name)) };
      fresh.learning_rate = opt.learning_rate ?? fresh.learning_rate;
      set({ optimizer: fresh });
    }, { id: "optimizer", "data-param": "optimizer" });

    const lrField = lrParam ? paramInput(lrParam, opt.learning_rate, (lr) => {
      set({ optimizer: { ...opt, learning_rate: lr } });
      onLearningRate(lr);
    }) : el("div");
    lrField.classList.add("lr-field");
    const hyper = paramFields(optParams, opt, (v) => set({ optimizer: { ...v, name: opt.name } }), { skip: ["learning_rate"], compact: true });

    const trainingParams = sectionParams(catalog, "training");
    const param = (name) => trainingParams.find((p) => p.name === name);
    // the batch field edits a size; "full batch" (null) is the mode menu's job
    const batchParam = { ...param("batch_size"), nullable: false };
    const mode = batchMode(training.batch_size);
    const modeSel = selectEl(BATCH_MODES, mode, (m) => {
      set({ batch_size: m === "full" ? null : m === "stochastic" ? 1 : batchParam.default });
    }, { id: "batch-mode", "data-param": "batch_mode" });
    const sizeInput = paramInput(batchParam, training.batch_size ?? batchParam.default,
      (v) => set({ batch_size: v }), { compact: true });
    sizeInput.hidden = mode !== "mini";

    // empty epochs: Play runs until paused, as in TensorFlow Playground; the engine stops at the catalog's cap
    const epochsField = paramInput(param("epochs"), training.epochs, (v) => set({ epochs: v }),
      { compact: true, empty: "until paused" });
    epochsField.title = `empty: train until paused (at most ${catalog.limits.max_epochs.toLocaleString()} epochs)`;

    // the penalty as the engine adds it to the loss (the catalog's text), so a factor of 2 has a visible source
    const regParams = sectionParams(catalog, "regularization").filter((p) => p.name === "l1" || p.name === "l2");
    const reg = paramFields(regParams, training.regularization || {},
      (v) => set({ regularization: { ...training.regularization, ...v } }), { compact: true });
    const regFormulas = el("ul", { class: "formula", "data-formula": "regularization" },
      regParams.map((p) => el("li", { text: `${p.name}: ${p.formula || p.help}` })));

    const sched = training.lr_schedule || { name: "constant" };
    const schedSel = selectEl(familyOptions(catalog.schedules), sched.name, (name) => {
      set({ lr_schedule: { name, ...paramDefaults(familyParams(catalog.schedules, name)) } });
    }, { id: "lr-schedule", "data-param": "lr_schedule" });
    const schedFields = paramFields(familyParams(catalog.schedules, sched.name), sched,
      (v) => set({ lr_schedule: { ...v, name: sched.name } }), { compact: true });

    const esParams = sectionParams(catalog, "early_stopping");
    const es = training.early_stopping;
    const esToggle = el("input", { type: "checkbox", id: "early-stopping" });
    esToggle.checked = Boolean(es);
    // the playground has no validation split by default, so the toggle watches the test loss
    esToggle.addEventListener("change", () => set({
      early_stopping: esToggle.checked ? { ...paramDefaults(esParams), monitor: "test_loss" } : null,
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
        epochsField,
        paramInput(param("seed"), training.seed, (v) => set({ seed: v }), { compact: true })),
      reg,
      regFormulas,
      el("div", { class: "fields" },
        el("div", { class: "field compact" }, el("label", { for: "lr-schedule", text: "lr schedule" }), schedSel)),
      schedFields,
      el("div", { class: "field check" }, esToggle, el("label", { for: "early-stopping", text: "early stopping" })),
      esFields);
  };
  store.subscribe((_, patch) => { if ("training" in patch || "catalog" in patch) render(); });
  render();
}
