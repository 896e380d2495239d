// TensorBoard-like histogram heatmaps: x = time (frames), y = fixed bins, per layer key, weights and gradients.
import { el, fitCanvas, formatNumber, frameScheduler, watchSize } from "./draw-util.js";

const MAX_COLUMNS = 240; // older frames are thinned so a long run still fits

function thin(frames) {
  if (frames.length <= MAX_COLUMNS) return frames;
  const step = frames.length / MAX_COLUMNS;
  const out = [];
  for (let i = 0; i < MAX_COLUMNS - 1; i++) out.push(frames[Math.floor(i * step)]);
  out.push(frames[frames.length - 1]); // always show the newest
  return out;
}

/** columns = frames, rows = bins (top = largest value); colour = count / column max (sqrt) */
function drawHistogram(canvas, columns, edges, rgb) {
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  const bins = edges ? edges.length - 1 : 0;
  columns = columns.map((c) => (c && c.length === bins ? c : new Array(bins).fill(0)));
  if (!columns.length || bins <= 0) return;
  const img = new ImageData(columns.length, bins);
  columns.forEach((counts, x) => {
    let max = 0;
    for (const c of counts) max = Math.max(max, c);
    for (let b = 0; b < bins; b++) {
      const t = max ? Math.sqrt(counts[b] / max) : 0;
      const i = ((bins - 1 - b) * columns.length + x) * 4;
      img.data[i] = 255 + (rgb[0] - 255) * t;
      img.data[i + 1] = 255 + (rgb[1] - 255) * t;
      img.data[i + 2] = 255 + (rgb[2] - 255) * t;
      img.data[i + 3] = 255;
    }
  });
  const tmp = document.createElement("canvas");
  tmp.width = columns.length; tmp.height = bins;
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, width, height - 12);
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#333";
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left";
  ctx.fillText(formatNumber(edges[0], 2), 2, height);
  ctx.textAlign = "right";
  ctx.fillText(formatNumber(edges[edges.length - 1], 2), width - 2, height);
  ctx.textAlign = "center";
  ctx.fillText("bins: low → high (bottom → top)", width / 2, height);
}

/** "0.W" -> "layer 1 W (0.W)": the builder's and the diagram's numbering, with the engine's key */
export function keyLabel(key) {
  const [i, name] = key.split(".");
  return Number.isInteger(Number(i)) ? `layer ${Number(i) + 1} ${name} (${key})` : key;
}

/** mount into `container`; reads state.histograms (list of histogram frames) */
export function mountHistograms(container, store) {
  const rows = new Map(); // key -> {w, g, stats}

  const rowFor = (key) => {
    if (rows.has(key)) return rows.get(key);
    const w = el("canvas", { class: "hist-canvas", "aria-label": `weight histogram ${key}` });
    const g = el("canvas", { class: "hist-canvas", "aria-label": `gradient histogram ${key}` });
    const stats = el("div", { class: "hist-stats" });
    const row = el("div", { class: "hist-row" },
      el("div", { class: "hist-key", text: keyLabel(key) }),
      el("figure", {}, w, el("figcaption", { text: "values" })),
      el("figure", {}, g, el("figcaption", { text: "gradients" })),
      stats);
    container.append(row);
    const entry = { w, g, stats };
    rows.set(key, entry);
    watchSize(w, request);
    return entry;
  };

  const draw = () => {
    const frames = thin(store.get().histograms || []);
    if (!frames.length) {
      for (const [, r] of rows) r.w.closest(".hist-row").remove();
      rows.clear();
      container.dataset.frames = "0";
      return;
    }
    const keys = frames[frames.length - 1].layers.map((l) => l.key);
    for (const key of keys) {
      const r = rowFor(key);
      const per = frames.map((f) => f.layers.find((l) => l.key === key)).filter(Boolean);
      const last = per[per.length - 1];
      drawHistogram(r.w, per.map((l) => l.counts), last.edges, [0, 114, 178]);
      if (last.grad_counts) drawHistogram(r.g, per.map((l) => l.grad_counts || []), last.grad_edges, [213, 94, 0]);
      r.stats.textContent = `mean ${formatNumber(last.mean)} · std ${formatNumber(last.std)} · grad std ${formatNumber(last.grad_std)}`;
    }
    container.dataset.frames = String(frames.length);
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("histograms" in patch) request(); });
  return { request };
}
