// TensorBoard-like histograms per layer: weights, gradients and activations over time, in offset mode (a heatmap:
// x = time, y = fixed bins) or overlay mode (one curve per frame, the newest darkest).
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
  edgeLabels(ctx, width, height, edges, "bins: low → high (bottom → top)");
}

/** the first and last bin edge under a histogram, and what the axis means between them */
function edgeLabels(ctx, width, height, edges, caption) {
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#333";
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left";
  ctx.fillText(formatNumber(edges[0], 2), 2, height);
  ctx.textAlign = "right";
  ctx.fillText(formatNumber(edges[edges.length - 1], 2), width - 2, height);
  ctx.textAlign = "center";
  ctx.fillText(caption, width / 2, height);
}

const PART = { W: "weights", b: "biases", gamma: "scale (gamma)", beta: "shift (beta)" };
const OVERLAY_FRAMES = 24; // curves drawn in overlay mode

/** the builder's name for model layer i: "Layer 1" ... and "Output" for the last */
export function layerName(i, nLayers) {
  return nLayers && i === nLayers - 1 ? "Output" : `Layer ${i + 1}`;
}

/** "0.W" -> "Layer 1 weights": the builder's and the diagram's numbering and words */
export function keyLabel(key, nLayers) {
  const [i, name] = key.split(".");
  return Number.isInteger(Number(i)) ? `${layerName(Number(i), nLayers)} ${PART[name] || name}` : key;
}

/** overlay mode: x = bins (value), y = count; the last OVERLAY_FRAMES frames, older ones fainter */
function drawOverlay(canvas, columns, edges, rgb) {
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  const bins = edges ? edges.length - 1 : 0;
  const recent = columns.filter((c) => c && c.length === bins).slice(-OVERLAY_FRAMES);
  if (!recent.length || bins <= 0) return;
  const max = Math.max(1, ...recent.map((c) => Math.max(...c)));
  const plotH = height - 14;
  recent.forEach((counts, k) => {
    const age = (k + 1) / recent.length;                // 1 = newest
    ctx.strokeStyle = `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${0.15 + 0.85 * age ** 2})`;
    ctx.lineWidth = k === recent.length - 1 ? 2 : 1;
    ctx.beginPath();
    counts.forEach((c, b) => {
      const x = ((b + 0.5) / bins) * width;
      const y = plotH - (c / max) * (plotH - 2);
      if (b === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  });
  edgeLabels(ctx, width, height, edges, "value →");
}

/** "2 beyond ±3.1" when the engine counted values past the fixed edges (they sit in the end bins) */
function beyond(below, above, edges) {
  const n = (below || 0) + (above || 0);
  if (!n || !edges) return "";
  return ` · ⚠ ${n} beyond [${formatNumber(edges[0], 2)}, ${formatNumber(edges[edges.length - 1], 2)}]`;
}

const pct = (v) => `${Math.round(v * 100)}%`;

/** mount into `container`; reads state.histograms (list of histogram frames) */
export function mountHistograms(container, store) {
  const rows = new Map(); // key -> {w, g, stats, label}
  let mode = "offset";
  const modeSel = el("select", { "aria-label": "histogram mode", class: "hist-mode" },
    el("option", { value: "offset", text: "offset (heatmap over time)" }),
    el("option", { value: "overlay", text: "overlay (one curve per frame)" }));
  modeSel.addEventListener("change", () => { mode = modeSel.value; request(); });
  container.append(el("div", { class: "hist-toolbar" }, el("label", { text: "mode " }, modeSel)));
  const draw1 = (canvas, columns, edges, rgb) =>
    (mode === "overlay" ? drawOverlay : drawHistogram)(canvas, columns, edges, rgb);

  const rowFor = (key) => {
    if (rows.has(key)) return rows.get(key);
    const act = key.startsWith("act:");
    const w = el("canvas", { class: "hist-canvas", "aria-label": `${act ? "activation" : "weight"} histogram ${key}` });
    const g = el("canvas", { class: "hist-canvas", "aria-label": `gradient histogram ${key}` });
    const stats = el("div", { class: "hist-stats" });
    const label = el("div", { class: "hist-key", title: act ? "" : `engine key ${key}` });
    const row = el("div", { class: "hist-row", dataset: { key } }, label,
      el("figure", {}, w, el("figcaption", { text: act ? "outputs on a training batch" : "values" })),
      act ? el("span") : el("figure", {}, g, el("figcaption", { text: "gradients" })),
      stats);
    container.append(row);
    const entry = { w, g, stats, label };
    rows.set(key, entry);
    watchSize(w, request);
    return entry;
  };

  const draw = () => {
    const frames = thin(store.get().histograms || []);
    if (!frames.length) {
      for (const [, r] of rows) r.w.closest(".hist-row")?.remove();
      rows.clear();
      container.dataset.frames = "0";
      return;
    }
    const nLayers = store.get().model?.layers?.length;
    const newest = frames[frames.length - 1];
    for (const key of newest.layers.map((l) => l.key)) {
      const r = rowFor(key);
      const per = frames.map((f) => f.layers.find((l) => l.key === key)).filter(Boolean);
      const last = per[per.length - 1];
      r.label.textContent = keyLabel(key, nLayers);
      draw1(r.w, per.map((l) => l.counts), last.edges, [0, 114, 178]);
      if (last.grad_counts) draw1(r.g, per.map((l) => l.grad_counts || []), last.grad_edges, [213, 94, 0]);
      r.stats.textContent = `mean ${formatNumber(last.mean)} · std ${formatNumber(last.std)} · grad std ` +
        `${formatNumber(last.grad_std)}${beyond(last.below, last.above, last.edges)}` +
        `${beyond(last.grad_below, last.grad_above, last.grad_edges)}`;
    }
    // each layer's outputs (the initialization lesson, live): collapse, saturation, dead ReLUs
    for (const a of newest.activations || []) {
      const key = `act:${a.layer}`;
      const r = rowFor(key);
      const per = frames.map((f) => (f.activations || []).find((x) => x.layer === a.layer)).filter(Boolean);
      r.label.textContent = `${layerName(a.layer, nLayers)} activations (${a.activation || a.type})`;
      draw1(r.w, per.map((x) => x.counts), a.edges, [0, 158, 115]);
      const extra = [a.saturated != null ? `saturated ${pct(a.saturated)}` : "",
                     a.activation === "relu" && a.dead != null ? `dead ${pct(a.dead)}` : ""].filter(Boolean).join(" · ");
      r.stats.textContent = `mean ${formatNumber(a.mean)} · std ${formatNumber(a.std)}${extra ? " · " + extra : ""}` +
        beyond(a.below, a.above, a.edges);
    }
    container.dataset.frames = String(frames.length);
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => { if ("histograms" in patch) request(); });
  return { request };
}
