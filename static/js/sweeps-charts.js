// the sweep's two views: a scatter of two settings (log axes for log-scale ranges, rug ticks along each axis
// so a grid's few distinct values and random search's many show) and parallel coordinates with brushing.
// Both only draw what GET /api/sweeps/{id} returns; scales come from the catalog's distributions.
import { fitCanvas, formatNumber, frameScheduler, watchSize } from "./draw-util.js";

// viridis, 6 stops: colour-blind safe and dark-to-bright in lightness, so a greyscale projector keeps the order
const VIRIDIS = [[68, 1, 84], [65, 68, 135], [42, 120, 142], [34, 168, 132], [122, 209, 81], [253, 231, 37]];
const INK = "#1f2430";
const MUTED = "#8a93a3";

/** t in [0, 1] (1 = best) -> rgb string */
export function metricColor(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const c = VIRIDIS[i].map((a, k) => Math.round(a + (VIRIDIS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** an axis for one swept setting: {label, scale, pos(v) -> 0..1, ticks: [{v, text}]} */
export function settingAxis(path, spec, catalog, label) {
  if (spec.values) {
    const cats = [...new Set(spec.values)];
    const pos = (v) => (cats.length === 1 ? 0.5 : cats.indexOf(v) / (cats.length - 1));
    return { label, scale: "categorical", pos, ticks: cats.map((v) => ({ v, text: String(v) })) };
  }
  const scale = catalog.sweeps.distributions[spec.distribution]?.scale || "linear";
  return numericAxis(label, spec.min, spec.max, scale);
}

export function numericAxis(label, min, max, scale) {
  if (scale === "log") {
    const lo = Math.log10(min), hi = Math.log10(max);
    const pos = (v) => (hi === lo ? 0.5 : (Math.log10(v) - lo) / (hi - lo));
    const ticks = [];
    for (let d = Math.ceil(lo - 1e-9); d <= hi + 1e-9; d++) ticks.push({ v: 10 ** d, text: `1e${d}` });
    return { label, scale, pos, ticks };
  }
  if (max === min) {   // one value so far: a small band around it
    const pad = Math.abs(min) * 0.05 || 0.05;
    min -= pad; max += pad;
  }
  const span = max - min;
  const pos = (v) => (v - min) / span;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ v: min + f * span, text: formatNumber(min + f * span, 3) }));
  return { label, scale, pos, ticks };
}

/** metric colour position per trial: 0 worst .. 1 best among the trials that have a value */
export function metricScale(trials, goal) {
  const values = trials.map((t) => t.best?.value).filter((v) => Number.isFinite(v));
  const lo = Math.min(...values), hi = Math.max(...values);
  return (v) => {
    if (!Number.isFinite(v) || !values.length) return null;
    const t = hi === lo ? 1 : (v - lo) / (hi - lo);
    return goal === "maximize" ? t : 1 - t;
  };
}

const PAD = { left: 52, right: 14, top: 12, bottom: 44 };

function dot(ctx, x, y, r, trial, fill) {
  ctx.beginPath();
  if (trial.stopped_early) ctx.rect(x - r, y - r, 2 * r, 2 * r);  // stopped early: a square
  else ctx.arc(x, y, r, 0, 2 * Math.PI);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
    ctx.strokeStyle = INK;
    ctx.lineWidth = 1;
  } else {
    ctx.strokeStyle = MUTED;   // waiting or no metric yet: hollow
    ctx.lineWidth = 1.5;
  }
  ctx.stroke();
}

export function createScatter(canvas) {
  let view = null;
  const draw = () => {
    const { ctx, width, height } = fitCanvas(canvas);
    ctx.clearRect(0, 0, width, height);
    if (!view) return;
    const { trials, x, y, color, selected } = view;
    const w = width - PAD.left - PAD.right, h = height - PAD.top - PAD.bottom;
    const px = (v) => PAD.left + x.pos(v) * w, py = (v) => PAD.top + (1 - y.pos(v)) * h;
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = MUTED;
    ctx.strokeStyle = "#e3e6ec";
    ctx.lineWidth = 1;
    for (const t of x.ticks) {
      const X = px(t.v);
      ctx.beginPath(); ctx.moveTo(X, PAD.top); ctx.lineTo(X, PAD.top + h); ctx.stroke();
      ctx.textAlign = "center"; ctx.fillText(t.text, X, PAD.top + h + 24);
    }
    for (const t of y.ticks) {
      const Y = py(t.v);
      ctx.beginPath(); ctx.moveTo(PAD.left, Y); ctx.lineTo(PAD.left + w, Y); ctx.stroke();
      ctx.textAlign = "right"; ctx.fillText(t.text, PAD.left - 10, Y + 4);
    }
    ctx.fillStyle = INK;
    ctx.textAlign = "center";
    ctx.fillText(`${x.label}${x.scale === "log" ? " (log)" : ""}`, PAD.left + w / 2, height - 2);
    ctx.save();
    ctx.translate(12, PAD.top + h / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(`${y.label}${y.scale === "log" ? " (log)" : ""}`, 0, 0);
    ctx.restore();
    let drawn = 0;
    for (const t of trials) {
      const X = px(view.xValue(t)), Y = py(view.yValue(t));
      if (!Number.isFinite(Y)) continue;   // the metric as y: no value yet
      const c = color(t.best?.value);
      const fill = c === null ? null : metricColor(c);
      // rug ticks: each trial's value projected on both axes (the lecture's grid-vs-random figure)
      ctx.strokeStyle = fill || MUTED;
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(X, PAD.top + h + 2); ctx.lineTo(X, PAD.top + h + 10); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(PAD.left - 2, Y); ctx.lineTo(PAD.left - 8, Y); ctx.stroke();
      ctx.globalAlpha = selected && !selected.has(t.index) ? 0.25 : 1;
      dot(ctx, X, Y, 6, t, fill);
      ctx.globalAlpha = 1;
      if (fill) drawn += 1;
    }
    canvas.dataset.points = String(trials.length);
    canvas.dataset.filled = String(drawn);
  };
  const request = frameScheduler(draw);
  watchSize(canvas, request);
  return { set(v) { view = v; request(); } };
}

/** parallel coordinates: one vertical axis per setting plus the metric; drag on an axis to brush a range */
export function createParallel(canvas, { onBrush }) {
  let view = null;
  const brushes = new Map();   // axis index -> [lo, hi] in 0..1 (1 = top)
  let dragging = null;
  const layout = () => {
    const { width, height } = canvas.getBoundingClientRect();
    const n = view ? view.axes.length : 0;
    const left = 40, right = 40, top = 28, bottom = 22;
    const xs = Array.from({ length: n }, (_, i) => left + (n === 1 ? 0 : (i * (width - left - right)) / (n - 1)));
    return { xs, top, h: height - top - bottom, width, height };
  };
  const positions = (t) => view.axes.map((a, i) => (i === view.axes.length - 1 ? a.pos(t.best?.value)
    : a.pos(t.params[view.paths[i]])));
  const selectedSet = () => {
    if (!view || !brushes.size) return null;
    const out = new Set();
    for (const t of view.trials) {
      const p = positions(t);
      if ([...brushes].every(([i, [lo, hi]]) => Number.isFinite(p[i]) && p[i] >= lo && p[i] <= hi)) out.add(t.index);
    }
    return out;
  };
  const draw = () => {
    const { ctx, width, height } = fitCanvas(canvas);
    ctx.clearRect(0, 0, width, height);
    if (!view) return;
    const { xs, top, h } = layout();
    const selected = selectedSet();
    const Y = (p) => top + (1 - p) * h;
    ctx.lineWidth = 1.5;
    for (const t of view.trials) {
      const p = positions(t);
      const c = view.color(t.best?.value);
      const on = !selected || selected.has(t.index);
      ctx.strokeStyle = on ? (c === null ? MUTED : metricColor(c)) : "#dde1e8";
      ctx.globalAlpha = on ? 0.95 : 0.6;
      ctx.beginPath();
      let started = false;
      p.forEach((v, i) => {
        if (!Number.isFinite(v)) { started = false; return; }
        if (started) ctx.lineTo(xs[i], Y(v)); else ctx.moveTo(xs[i], Y(v));
        started = true;
      });
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.font = "12px system-ui, sans-serif";
    view.axes.forEach((a, i) => {
      ctx.strokeStyle = INK; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(xs[i], top); ctx.lineTo(xs[i], top + h); ctx.stroke();
      ctx.fillStyle = INK;
      ctx.textAlign = i === 0 ? "left" : i === view.axes.length - 1 ? "right" : "center";
      ctx.fillText(a.label, xs[i] + (i === 0 ? -30 : i === view.axes.length - 1 ? 30 : 0), 14);
      ctx.fillStyle = MUTED;
      ctx.textAlign = "left";
      const first = a.ticks[0], last = a.ticks[a.ticks.length - 1];
      if (first) ctx.fillText(first.text, xs[i] + 4, top + h + 16);
      if (last) ctx.fillText(last.text, xs[i] + 4, top + 10);
      const b = brushes.get(i);
      if (b) {
        ctx.fillStyle = "rgba(0, 114, 178, 0.18)";
        ctx.strokeStyle = "#0072b2";
        ctx.fillRect(xs[i] - 8, Y(b[1]), 16, Y(b[0]) - Y(b[1]));
        ctx.strokeRect(xs[i] - 8, Y(b[1]), 16, Y(b[0]) - Y(b[1]));
      }
    });
    canvas.dataset.lines = String(view.trials.length);
    canvas.dataset.selected = selected ? String(selected.size) : "";
  };
  const request = frameScheduler(draw);
  watchSize(canvas, request);
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    const { xs, top, h } = layout();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    let axis = -1, best = 24;
    xs.forEach((ax, i) => { if (Math.abs(ax - x) < best) { best = Math.abs(ax - x); axis = i; } });
    return { axis, p: Math.max(0, Math.min(1, 1 - (y - top) / h)) };
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (!view) return;
    const { axis, p } = at(e);
    if (axis < 0) return;
    dragging = { axis, start: p, moved: false };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    const { p } = at(e);
    if (Math.abs(p - dragging.start) > 0.01) dragging.moved = true;
    if (dragging.moved) brushes.set(dragging.axis, [Math.min(p, dragging.start), Math.max(p, dragging.start)]);
    request();
  });
  canvas.addEventListener("pointerup", () => {
    if (!dragging) return;
    if (!dragging.moved) brushes.delete(dragging.axis);   // a tap clears that axis's brush
    dragging = null;
    request();
    onBrush(selectedSet());
  });
  return {
    set(v) {
      if (view && v && view.axes.length !== v.axes.length) brushes.clear();
      view = v;
      request();
    },
    selected: selectedSet,
  };
}
