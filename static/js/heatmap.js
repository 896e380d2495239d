// decision boundary heatmap under the data points; draws from state keys preview, boundary, ui.
import {
  CLASS_RGB, base64ToBytes, base64ToFloat16, classColor, divergingRgb, fitCanvas, frameScheduler, watchSize,
} from "./draw-util.js";

const PAD = 0; // plot fills the canvas; the domain maps to its full box

/** boundary frame -> RGBA pixels (R*R*4) */
export function boundaryPixels(frame, discretize) {
  const R = frame.resolution;
  const rgba = new Uint8ClampedArray(R * R * 4);
  if (frame.encoding === "float16") {
    const values = base64ToFloat16(frame.values);
    const lo = frame.min ?? Math.min(...values);
    const hi = frame.max ?? Math.max(...values);
    const mid = (lo + hi) / 2;
    const half = (hi - lo) / 2 || 1;
    for (let i = 0; i < R * R; i++) {
      let t = (values[i] - mid) / half;
      if (discretize) t = t >= 0 ? 0.8 : -0.8;
      const [r, g, b] = divergingRgb(t * 0.8);
      rgba.set([r, g, b, 255], i * 4);
    }
    return rgba;
  }
  const probs = base64ToBytes(frame.probabilities); // (R, R, K) uint8, row 0 = top
  const K = frame.n_outputs;
  const strength = 0.55; // keep the background light so points stay readable
  for (let i = 0; i < R * R; i++) {
    let r = 0, g = 0, b = 0;
    if (K === 1) {
      const p = probs[i] / 255; // probability of class 1
      const w = discretize ? (p >= 0.5 ? 1 : 0) : p;
      const c0 = CLASS_RGB[0], c1 = CLASS_RGB[1];
      r = c0[0] * (1 - w) + c1[0] * w; g = c0[1] * (1 - w) + c1[1] * w; b = c0[2] * (1 - w) + c1[2] * w;
      const conf = discretize ? 1 : Math.abs(p - 0.5) * 2;
      const s = strength * conf;
      r = 255 + (r - 255) * s; g = 255 + (g - 255) * s; b = 255 + (b - 255) * s;
    } else {
      let best = 0, bestP = -1;
      for (let k = 0; k < K; k++) {
        const p = probs[i * K + k];
        if (p > bestP) { bestP = p; best = k; }
      }
      const c = CLASS_RGB[best % CLASS_RGB.length];
      // confidence above chance, 0..1
      const conf = discretize ? 1 : Math.max(0, (bestP / 255 - 1 / K) / (1 - 1 / K));
      const s = strength * conf;
      r = 255 + (c[0] - 255) * s; g = 255 + (c[1] - 255) * s; b = 255 + (c[2] - 255) * s;
    }
    rgba[i * 4] = r; rgba[i * 4 + 1] = g; rgba[i * 4 + 2] = b; rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

function drawPoints(ctx, points, labels, toPx, { outlined, regression, range }) {
  if (!points) return;
  const rad = outlined ? 3.6 : 3.2;
  for (let i = 0; i < points.length; i++) {
    const [px, py] = toPx(points[i][0], points[i][1]);
    ctx.beginPath();
    ctx.arc(px, py, rad, 0, Math.PI * 2);
    if (regression) {
      const [lo, hi] = range;
      const t = ((labels[i] - lo) / ((hi - lo) || 1)) * 2 - 1;
      const [r, g, b] = divergingRgb(t);
      ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
    } else {
      ctx.fillStyle = classColor(labels[i] | 0);
    }
    ctx.fill();
    ctx.lineWidth = outlined ? 1.6 : 1;
    ctx.strokeStyle = outlined ? "#111" : "#fff";
    ctx.stroke();
  }
}

/**
 * mount on a canvas; onPlotClick(x, y) gets data coordinates (for painting points).
 */
export function mountHeatmap(canvas, store, { onPlotClick } = {}) {
  const image = document.createElement("canvas");
  let imageKey = null;

  const draw = () => {
    const s = store.get();
    const { ctx, width, height } = fitCanvas(canvas);
    ctx.clearRect(0, 0, width, height);
    const preview = s.preview;
    const frame = s.boundary;
    // the points' domain places everything: a boundary frame kept on screen while the next one is computed
    // (another noise level, another dataset) is drawn into its own domain's box
    const domain = preview?.domain || frame?.domain || [[-6, 6], [-6, 6]];
    const [[x0, x1], [y0, y1]] = domain;
    const w = width - 2 * PAD, h = height - 2 * PAD;
    const toPx = (x, y) => [PAD + ((x - x0) / (x1 - x0)) * w, PAD + ((y1 - y) / (y1 - y0)) * h];

    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, width, height);
    // hovering a neuron in the diagram shows its own map here, large (TensorFlow Playground's)
    const hovered = s.hover && frame?.neurons?.find((n) => n.layer === s.hover.layer && s.hover.unit < n.units);
    if (hovered) {
      const r = hovered.resolution;
      const bytes = base64ToBytes(hovered.data);
      const img = new ImageData(r, r);
      for (let i = 0; i < r * r; i++) {
        const [R, G, B] = divergingRgb((bytes[s.hover.unit * r * r + i] / 127.5 - 1) * 0.9);
        img.data.set([R, G, B, 255], i * 4);
      }
      image.width = r; image.height = r;
      image.getContext("2d").putImageData(img, 0, 0);
      imageKey = null;
      ctx.imageSmoothingEnabled = true;
      const [[fx0, fx1], [fy0, fy1]] = frame.domain;
      const [ax, ay] = toPx(fx0, fy1), [bx, by] = toPx(fx1, fy0);
      ctx.drawImage(image, ax, ay, bx - ax, by - ay);
    } else if (frame) {
      const key = `${frame.seq ?? ""}|${frame.epoch}|${frame.resolution}|${s.ui.discretize}|${frame.probabilities?.length ?? frame.values?.length}`;
      if (key !== imageKey || image.width !== frame.resolution) {
        const R = frame.resolution;
        image.width = R; image.height = R;
        const ictx = image.getContext("2d");
        ictx.putImageData(new ImageData(boundaryPixels(frame, s.ui.discretize), R, R), 0, 0);
        imageKey = key;
      }
      ctx.imageSmoothingEnabled = !s.ui.discretize;
      const [[fx0, fx1], [fy0, fy1]] = frame.domain;
      const [ax, ay] = toPx(fx0, fy1), [bx, by] = toPx(fx1, fy0);
      ctx.drawImage(image, ax, ay, bx - ax, by - ay);
    }
    // axes through the origin, light
    ctx.strokeStyle = "rgba(0,0,0,0.15)";
    ctx.lineWidth = 1;
    const [ox, oy] = toPx(0, 0);
    ctx.beginPath(); ctx.moveTo(ox, 0); ctx.lineTo(ox, height); ctx.moveTo(0, oy); ctx.lineTo(width, oy); ctx.stroke();

    if (preview) {
      const regression = preview.task === "regression";
      const all = regression ? [...(preview.labels_train || []), ...(preview.labels_test || [])] : [];
      const range = regression && all.length ? [Math.min(...all), Math.max(...all)] : [0, 1];
      drawPoints(ctx, preview.points_train, preview.labels_train, toPx, { outlined: false, regression, range });
      if (s.ui.showTest) drawPoints(ctx, preview.points_test, preview.labels_test, toPx, { outlined: true, regression, range });
    }
    canvas.dataset.epoch = frame ? String(frame.epoch) : "";
    canvas.dataset.hover = hovered ? `${s.hover.layer}:${s.hover.unit}` : "";
    if (frame && !canvas.dataset.firstDrawn) canvas.dataset.firstDrawn = String(Math.round(performance.now()));
    canvas.dataset.draws = String(Number(canvas.dataset.draws || 0) + (frame ? 1 : 0));
    canvas.dataset.points = String(preview?.points_train?.length ?? 0);
    canvas.dataset.testPoints = String(s.ui.showTest ? preview?.points_test?.length ?? 0 : 0);
  };

  const request = frameScheduler(draw);
  store.subscribe((_, patch) => {
    if ("preview" in patch || "boundary" in patch || "ui" in patch || "hover" in patch) request();
  });
  watchSize(canvas, request);

  canvas.addEventListener("click", (ev) => {
    if (!onPlotClick) return;
    const s = store.get();
    const domain = s.preview?.domain || s.boundary?.domain || [[-6, 6], [-6, 6]];
    const rect = canvas.getBoundingClientRect();
    const fx = (ev.clientX - rect.left) / rect.width;
    const fy = (ev.clientY - rect.top) / rect.height;
    const [[x0, x1], [y0, y1]] = domain;
    onPlotClick(x0 + fx * (x1 - x0), y1 - fy * (y1 - y0));
  });
  request();
  return { redraw: request };
}
