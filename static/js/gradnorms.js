// per-layer gradient norms over time (log scale): vanishing gradients in deep sigmoid stacks become visible.
import { createLineChart, renderLegend } from "./charts.js";
import { SERIES_COLORS } from "./draw-util.js";
import { keyLabel } from "./histograms.js";

export function mountGradNorms(canvas, legend, store) {
  const chart = createLineChart(canvas, { log: true, emptyText: "gradient norms appear while training" });
  const update = () => {
    const frames = store.get().gradients || [];
    const keys = frames.length ? Object.keys(frames[frames.length - 1].norms).filter((k) => !k.endsWith(".b")) : [];
    const series = keys.map((key, i) => ({
      label: keyLabel(key, store.get().model?.layers?.length),
      color: SERIES_COLORS[i % SERIES_COLORS.length],
      points: frames.filter((f) => key in f.norms).map((f) => [f.epoch, f.norms[key]]),
    }));
    chart.set(series, { log: true });
    renderLegend(legend, series);
  };
  store.subscribe((_, patch) => { if ("gradients" in patch) update(); });
  update();
}
