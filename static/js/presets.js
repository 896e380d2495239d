// presets gallery: the engine's presets (catalog.presets: each a title, a short explanation and a spec the
// engine validates); one click applies the preset's dataset, model and training.
import { el } from "./draw-util.js";

export function mountPresets(container, store, { onApply }) {
  const render = () => {
    const presets = store.get().catalog?.presets || [];
    container.replaceChildren(...presets.map((p) => el("article", { class: "preset", "data-preset": p.name },
      el("button", { type: "button", class: "preset-apply", text: p.title, onclick: () => {
        const s = store.get();
        onApply({ dataset: p.spec.dataset, model: p.spec.model,
          // what the preset does not set goes back to off (a previous preset's L2 or early stopping would linger)
          training: { ...s.training, regularization: { ...s.training.regularization, l1: 0, l2: 0 }, early_stopping: null,
            ...p.spec.training, optimizer: { ...p.spec.training.optimizer } },
          // a preset that shows a hidden space (the bottlenecks) picks its layer; any other turns it off
          stream: { ...s.stream, hidden_layer: p.spec.stream?.hidden_layer ?? null, hidden_units: null } });
        window.scrollTo({ top: 0, behavior: "smooth" });
      } }),
      el("p", { text: p.text }))));
  };
  store.subscribe((_, patch) => { if ("catalog" in patch) render(); });
  render();
}
