// the k-NN model in the playground's network panel (in place of the diagram: a k-NN has no neurons or weights).
// k is a slider that changes the model live: every move is a new model whose boundary the engine's preview
// draws (a fit only stores the rows). The slider's range is the engine's (summary row k_range, else the
// catalog's knn param), the metric's choices the catalog's.
import { el } from "./draw-util.js";
import { isKnn } from "./builder.js";

/** [min, max] of k: the summary's (capped by the training rows) when it describes this model, else the catalog's */
export function kRange(catalog, summary) {
  const row = summary?.layers?.[0];
  if (row?.type === "knn" && Array.isArray(row.k_range)) return row.k_range;
  const p = (catalog?.knn || []).find((q) => q.name === "k");
  return [p?.min ?? 1, p?.max ?? 1];
}

/** onChange(model): a new knn model {type, k, metric} */
export function mountKnnPanel(root, store, { onChange }) {
  let slider = null;
  let value = null;
  let metricSel = null;
  let built = false;

  const build = () => {
    const { catalog } = store.get();
    const metric = (catalog?.knn || []).find((p) => p.name === "metric");
    slider = el("input", { type: "range", id: "knn-k", step: "1", "aria-label": "k: neighbours that vote" });
    value = el("output", { for: "knn-k", class: "knn-k-value" });
    slider.addEventListener("input", () => {
      value.textContent = slider.value;
      onChange({ ...store.get().model, k: Number(slider.value) });
    });
    metricSel = el("select", { id: "knn-metric", "aria-label": "distance metric", title: metric?.help || "" },
      ...(metric?.choices || []).map((c) => el("option", { value: c, text: c })));
    metricSel.addEventListener("change", () => onChange({ ...store.get().model, metric: metricSel.value }));
    root.replaceChildren(
      el("div", { class: "knn-row" },
        el("label", { for: "knn-k", text: "k" }), slider, value),
      el("div", { class: "knn-row" },
        el("label", { for: "knn-metric", text: "distance" }), metricSel,
        el("span", { class: "muted", text: metric?.help || "" })),
      el("p", { class: "knn-note" }),
      el("p", { class: "knn-scores", "aria-live": "polite" }),
      el("ul", { class: "warnings", "aria-live": "polite" }));
    built = true;
  };

  const paint = () => {
    const { model, summary, catalog } = store.get();
    const on = isKnn(model);
    root.hidden = !on;
    root.closest("section")?.classList.toggle("knn", on);   // the diagram and its legend step aside
    if (!on || !catalog) return;
    if (!built) build();
    const [lo, hi] = kRange(catalog, summary);
    slider.min = String(lo);
    slider.max = String(Math.max(lo, hi));
    if (document.activeElement !== slider) slider.value = String(model.k);
    value.textContent = String(model.k);
    metricSel.value = model.metric;
    const row = summary?.layers?.[0];
    root.querySelector(".knn-note").textContent = "No weights and no training: the model stores the training "
      + `points, and every point of the plane takes the vote of its ${model.k} nearest`
      + `${row?.type === "knn" ? ` (k from ${lo} to ${hi} on this data)` : ""}. Move k: the boundary redraws at once.`;
    // the engine's scores of this k on these points (its fit is the whole training): small k fits the training
    // points exactly, large k smooths the boundary away
    const scores = store.get().previewScores;
    const pct = (v) => `${(100 * v).toFixed(1)}%`;
    root.querySelector(".knn-scores").textContent = scores ? `accuracy with k = ${scores.k} (${scores.metric}): ` +
      [["train", "train_accuracy"], ["validation", "val_accuracy"], ["test", "test_accuracy"]]
        .filter(([, key]) => key in scores).map(([name, key]) => `${name} ${pct(scores[key])}`).join(" · ") : "";
    const errors = row?.type === "knn" ? summary.errors : [];
    root.querySelector(".warnings").replaceChildren(...errors.map((e) => el("li", { class: "bad", text: e.message })));
  };

  store.subscribe((_, patch) => { if (["model", "summary", "catalog", "previewScores"].some((k) => k in patch)) paint(); });
  paint();
}
