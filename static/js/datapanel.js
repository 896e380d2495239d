// data panel: dataset (from the catalog) and its options, features, regenerate, paint points, CSV upload.
import { classColor, el } from "./draw-util.js";
import { familyOptions, familyParams, paramDefaults, paramFields, selectEl } from "./forms.js";

const HIDDEN_KINDS = new Set(["image", "sequence"]); // MNIST-like sets live on /digits, sequences on /sequences
const SPEC_KEYS = new Set(["features", "preprocessing"]);

export function playgroundDatasets(catalog) {
  const all = catalog?.datasets || {};
  return familyOptions(all).filter((o) => !HIDDEN_KINDS.has(all[o.value]?.kind));
}

/** a fresh dataset dict for `name` with its catalog defaults, keeping the features */
export function defaultDataset(catalog, name, features = catalog.default_features) {
  return { name, ...paramDefaults(familyParams(catalog.datasets, name)), features };
}

/** current points (train + test) as inline x / y, so painting adds to what is on screen */
function inlineFromPreview(preview) {
  const x = [...(preview?.points_train || []), ...(preview?.points_test || [])];
  const y = [...(preview?.labels_train || []), ...(preview?.labels_test || [])];
  return { x: x.map((p) => [round(p[0]), round(p[1])]), y: y.map((v) => (Number.isInteger(v) ? v : round(v))) };
}

const round = (v) => Math.round(v * 1000) / 1000;

/**
 * mount into `container`; onChange(dataset) for every edit. Painting: `paint` = {on, cls} lives in state.ui.
 */
export function mountDataPanel(container, store, { onChange, onUi }) {
  const render = () => {
    const { catalog, dataset, ui, preview, previewError, previewNote } = store.get();
    if (!catalog || !dataset) return;
    const options = playgroundDatasets(catalog);
    const inlineName = options.find((o) => catalog.datasets[o.value]?.kind === "inline")?.value;
    const sel = selectEl(options, dataset.name, (name) => onChange(defaultDataset(catalog, name, dataset.features)),
      { id: "dataset", "data-param": "dataset" });
    const params = familyParams(catalog.datasets, dataset.name).filter((p) => !SPEC_KEYS.has(p.name));
    const fields = paramFields(params, dataset, (v) => onChange({ ...dataset, ...v }), { compact: true });

    const featureNames = familyOptions(catalog.features).map((o) => o.value);
    const feats = el("div", { class: "feature-toggles", role: "group", "aria-label": "input features" },
      featureNames.map((f) => {
        const id = `feat-${f}`;
        const box = el("input", { type: "checkbox", id, "data-feature": f });
        box.checked = (dataset.features || []).includes(f);
        box.addEventListener("change", () => {
          const next = featureNames.filter((n) => (n === f ? box.checked : (dataset.features || []).includes(n)));
          if (next.length) onChange({ ...dataset, features: next });
          else box.checked = true; // at least one input
        });
        return el("label", { class: "chip", for: id }, box, f.replace(/_sq$/, "²").replace("_", " "));
      }));

    const hasSeed = params.some((p) => p.name === "seed");
    const regen = el("button", { type: "button", id: "regenerate", disabled: !hasSeed, text: "Regenerate",
      onclick: () => onChange({ ...dataset, seed: ((dataset.seed ?? 0) + 1) % 2147483647 }) });

    const nClasses = Math.max(2, preview?.n_classes || 2);
    const classPick = el("div", { class: "class-pick", role: "radiogroup", "aria-label": "class to paint" },
      Array.from({ length: nClasses }, (_, k) => el("button", {
        type: "button", class: `swatch-btn${ui.paintClass === k ? " active" : ""}`, style: `background:${classColor(k)}`,
        "aria-label": `paint class ${k}`, "aria-pressed": ui.paintClass === k ? "true" : "false",
        onclick: () => onUi({ paintClass: k, paint: true }),
      })));
    const paintToggle = el("button", { type: "button", id: "paint-toggle", class: ui.paint ? "active" : "",
      "aria-pressed": ui.paint ? "true" : "false", disabled: !inlineName,
      text: ui.paint ? "Painting: click the plot" : "Paint points", onclick: () => onUi({ paint: !ui.paint }) });
    const clearPts = el("button", { type: "button", disabled: !inlineName, text: "Clear points",
      onclick: () => { onChange({ ...defaultDataset(catalog, inlineName, dataset.features), x: [], y: [] }); onUi({ paint: true }); } });
    const csv = el("input", { type: "file", accept: ".csv,text/csv", id: "csv-upload", "aria-label": "upload CSV" });
    csv.addEventListener("change", async () => {
      const file = csv.files?.[0];
      if (!file || !inlineName) return;
      const text = await file.text();
      onChange({ ...defaultDataset(catalog, inlineName, dataset.features), csv: text, test_ratio: 0.3 });
    });

    container.replaceChildren(
      el("div", { class: "fields" }, el("div", { class: "field compact" }, el("label", { for: "dataset", text: "dataset" }), sel), regen),
      el("p", { class: "doc", text: catalog.datasets[dataset.name]?.doc || "" }),
      fields,
      el("div", { class: "subhead", text: "features" }), feats,
      el("div", { class: "paint-row" }, paintToggle, classPick, clearPts),
      el("div", { class: "field compact csv" }, el("label", { for: "csv-upload", text: "CSV (any number of columns, label last)" }), csv),
      el("p", { class: "doc", "data-note": "preview", text: previewNote || "" }),
      el("p", { class: "error", role: "alert", text: previewError || "" }));
  };
  // a new preview re-renders only when the class swatches change: typing in a field keeps its focus
  let classes = null;
  store.subscribe((s, patch) => {
    const nextClasses = Math.max(2, s.preview?.n_classes || 2);
    const classesChanged = "preview" in patch && nextClasses !== classes;
    classes = nextClasses;
    if ("dataset" in patch || "catalog" in patch || "previewError" in patch || "previewNote" in patch || "ui" in patch || classesChanged) render();
  });
  render();
  return { render };
}

/** add a painted point: the dataset becomes inline, keeping the points on screen */
export function paintPoint(store, x, y) {
  const { catalog, dataset, ui, preview } = store.get();
  const inlineName = playgroundDatasets(catalog).find((o) => catalog.datasets[o.value]?.kind === "inline")?.value;
  if (!inlineName) return null;
  const base = catalog.datasets[dataset.name]?.kind === "inline" && !dataset.csv
    ? { x: dataset.x || [], y: dataset.y || [] }
    : inlineFromPreview(preview);
  const test_ratio = catalog.datasets[dataset.name]?.kind === "inline" ? dataset.test_ratio : 0.3;
  return {
    ...defaultDataset(catalog, inlineName, dataset.features), test_ratio: test_ratio ?? 0.3,
    x: [...base.x, [round(x), round(y)]], y: [...base.y, ui.paintClass ?? 0],
  };
}
