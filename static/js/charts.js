// line charts (loss / accuracy / gradient norms / overlays of several runs), canvas, redrawn at most once per frame.
import { SERIES_COLORS, fitCanvas, formatNumber, frameScheduler, watchSize } from "./draw-util.js";

/** TensorBoard's debiased exponential moving average; weight 0 = raw */
export function smooth(ys, weight) {
  if (!weight) return ys;
  const out = new Array(ys.length);
  let last = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!Number.isFinite(y)) { out[i] = y; continue; }
    last = last * weight + (1 - weight) * y;
    n += 1;
    out[i] = last / (1 - weight ** n);
  }
  return out;
}

function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const span = hi - lo;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const norm = step0 / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/**
 * createLineChart(canvas) -> {set(series, opts)}: series = [{label, color, dash, points: [[x, y], ...]}],
 * opts = {log, smoothing, yLabel, xLabel, yMin, yMax}.
 */
export function createLineChart(canvas, baseOpts = {}) {
  let series = [];
  let opts = { ...baseOpts };
  const draw = () => {
    const { ctx, width, height } = fitCanvas(canvas);
    ctx.clearRect(0, 0, width, height);
    const m = { l: 46, r: 14, t: 8, b: 22 };
    const pw = width - m.l - m.r, ph = height - m.t - m.b;
    const tf = (y) => (opts.log ? (y > 0 ? Math.log10(y) : NaN) : y);
    const prepared = series.map((s) => {
      const ys = smooth(s.points.map((p) => p[1]), opts.smoothing || 0);
      return { ...s, xy: s.points.map((p, i) => [p[0], tf(ys[i])]), raw: s.points.map((p) => [p[0], tf(p[1])]) };
    });
    let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
    for (const s of prepared) for (const [x, y] of s.raw) {
      if (!Number.isFinite(y)) continue;
      xMin = Math.min(xMin, x); xMax = Math.max(xMax, x); yMin = Math.min(yMin, y); yMax = Math.max(yMax, y);
    }
    if (opts.yMin !== undefined && !opts.log) yMin = Math.min(yMin, opts.yMin);
    if (opts.yMax !== undefined && !opts.log) yMax = Math.max(yMax, opts.yMax);
    const empty = !Number.isFinite(xMin);
    if (empty) { xMin = 0; xMax = 1; yMin = 0; yMax = 1; }
    if (xMax === xMin) xMax = xMin + 1;
    if (yMax === yMin) { const d = Math.abs(yMax) * 0.5 || 0.5; yMax += d; yMin -= d; }   // a flat 0.03 reads as 0.03
    const padY = (yMax - yMin) * 0.05;
    yMin -= padY; yMax += padY;
    const X = (x) => m.l + ((x - xMin) / (xMax - xMin)) * pw;
    const Y = (y) => m.t + (1 - (y - yMin) / (yMax - yMin)) * ph;

    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.strokeStyle = "#e4e4e4";
    ctx.lineWidth = 1;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    const yTicks = opts.log
      ? niceTicks(yMin, yMax, 4).filter((t) => Number.isInteger(t) || yMax - yMin < 2)
      : niceTicks(yMin, yMax, opts.yTicks || 4);
    for (const t of yTicks) {
      const py = Y(t);
      ctx.beginPath(); ctx.moveTo(m.l, py); ctx.lineTo(m.l + pw, py); ctx.stroke();
      ctx.fillText(formatNumber(opts.log ? 10 ** t : t, 2), m.l - 4, py);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of niceTicks(xMin, xMax, 5)) {
      if (!Number.isInteger(t)) continue;
      ctx.fillText(String(t), X(t), m.t + ph + 5);
    }
    ctx.strokeStyle = "#999";
    ctx.strokeRect(m.l, m.t, pw, ph);
    if (empty) {
      ctx.fillStyle = "#888"; ctx.textBaseline = "middle";
      ctx.fillText(opts.emptyText || "no data yet", m.l + pw / 2, m.t + ph / 2);
      return;
    }
    ctx.save();
    ctx.beginPath(); ctx.rect(m.l, m.t, pw, ph); ctx.clip();
    prepared.forEach((s, i) => {
      const color = s.color || SERIES_COLORS[i % SERIES_COLORS.length];
      const path = (xy, alpha, w) => {
        ctx.globalAlpha = alpha; ctx.lineWidth = w; ctx.strokeStyle = color;
        ctx.setLineDash(s.dash || []);
        ctx.beginPath();
        let pen = false;
        for (const [x, y] of xy) {
          if (!Number.isFinite(y)) { pen = false; continue; }
          if (pen) ctx.lineTo(X(x), Y(y)); else { ctx.moveTo(X(x), Y(y)); pen = true; }
        }
        ctx.stroke();
      };
      if (opts.smoothing) path(s.raw, 0.25, 1);
      path(s.xy, 1, 1.8);
      if (s.xy.length === 1) {
        const [x, y] = s.xy[0];
        ctx.fillStyle = color; ctx.fillRect(X(x) - 2, Y(y) - 2, 4, 4);
      }
    });
    ctx.restore();
    ctx.globalAlpha = 1; ctx.setLineDash([]);
  };
  const request = frameScheduler(draw);
  watchSize(canvas, request);
  return {
    set(newSeries, newOpts = {}) {
      series = newSeries;
      opts = { ...baseOpts, ...newOpts };
      request();
    },
    request,
  };
}

/** HTML legend for series (kept outside the canvas so it wraps on phones) */
export function renderLegend(container, series) {
  const html = series.map((s, i) => {
    const color = s.color || SERIES_COLORS[i % SERIES_COLORS.length];
    const style = s.dash ? `border-top: 2px dashed ${color}` : `border-top: 3px solid ${color}`;
    return `<span class="legend-item"><span class="swatch" style="${style}"></span>${escapeHtml(s.label)}</span>`;
  }).join("");
  if (container.innerHTML !== html) container.innerHTML = html;
}

function escapeHtml(t) {
  return String(t).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

/** the metric names an epoch record carries: accuracy for classification, r2 for regression */
export function metricName(history) {
  const r = history.find((h) => h) || {};
  return "train_r2" in r || "test_r2" in r ? "r2" : "accuracy";
}

/** series for loss and metric curves from a history of epoch records */
export function historySeries(history, prefix = "", colors = [SERIES_COLORS[0], SERIES_COLORS[1]]) {
  const metric = metricName(history);
  const make = (key, label, color, dash) => ({
    label: prefix + label, color, dash,
    points: history.filter((h) => h[key] !== undefined && h[key] !== null).map((h) => [h.epoch, h[key]]),
  });
  const loss = [make("train_loss", "train loss", colors[0]), make("test_loss", "test loss", colors[1], [5, 3])];
  const val = make("val_loss", "val loss", SERIES_COLORS[2], [2, 2]);
  if (val.points.length) loss.push(val);
  const acc = [make(`train_${metric}`, `train ${metric}`, colors[0]), make(`test_${metric}`, `test ${metric}`, colors[1], [5, 3])];
  return { loss: loss.filter((s) => s.points.length), metric: acc.filter((s) => s.points.length), metricLabel: metric };
}
