// /lessons/optimizers: the engine's optimizers racing over a 2-D loss surface (POST /api/lessons/optimizers),
// animated at display rate; a loss-per-step chart; per-optimizer controls from /api/catalog; the momentum
// phase diagram (POST /api/lessons/optimizers/phase). The page only draws: every point comes from the server.
import * as api from "./api.js";
import { createLineChart } from "./charts.js";
import { familyOptions, familyParams, paramDefaults, paramFields, selectEl } from "./forms.js";
import { CLASS_COLORS, el, fitCanvas, formatNumber, frameScheduler, watchSize } from "./draw-util.js";
import { mountTokenBox } from "./auth.js";

const $ = (id) => document.getElementById(id);
// Okabe-Ito without the yellow (too light on the map): one colour per racer, in order
const RACE_COLORS = [0, 1, 2, 3, 4, 5, 7, 9].map((i) => CLASS_COLORS[i]);
const CUSTOM = "__custom__";

const state = {
  catalog: null,     // /api/catalog (optimizer names, options and ranges)
  lesson: null,      // GET /api/lessons/optimizers (surfaces, presets, request options)
  request: null,     // the POST body: {surface, start, steps, optimizers}
  result: null,      // the last answer: {surface, paths}
  t: 0,              // animation position in steps (fractional while playing)
  playing: false,
  speed: 60,         // steps per second
  phase: null,       // the last phase diagram
};

// ---- the surface map: the shaded background is drawn once per surface, paths on top every frame
const map = $("surface-map");
let background = null;   // {canvas, key}: the shading at the map's pixel size

function view(width, height) {
  const [[x0, x1], [y0, y1]] = state.result.surface.domain;
  return {
    px: (x) => ((x - x0) / (x1 - x0)) * width,
    py: (y) => (1 - (y - y0) / (y1 - y0)) * height,
    fromPx: (u, v) => [x0 + (u / width) * (x1 - x0), y1 - (v / height) * (y1 - y0)],
  };
}

/** sample the server's grid bilinearly at (u, v) in grid-index units */
function sampler(grid) {
  const z = grid.z, n = z.length, m = z[0].length;
  return (fi, fj) => {
    const i = Math.max(0, Math.min(m - 1.001, fi)), j = Math.max(0, Math.min(n - 1.001, fj));
    const i0 = Math.floor(i), j0 = Math.floor(j), a = i - i0, b = j - j0;
    return (1 - b) * ((1 - a) * z[j0][i0] + a * z[j0][i0 + 1]) + b * ((1 - a) * z[j0 + 1][i0] + a * z[j0 + 1][i0 + 1]);
  };
}

function renderBackground(width, height) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr), h = Math.round(height * dpr);
  const key = `${state.result.surface.name}:${state.result.surface.grid.z.length}:${JSON.stringify(state.result.surface.domain)}:${state.request.surface.expression || ""}:${w}x${h}`;
  if (background && background.key === key) return background.canvas;
  const { grid } = state.result.surface;
  const at = sampler(grid);
  const n = grid.z.length, m = grid.z[0].length;
  let zMin = Infinity, zMax = -Infinity;
  for (const row of grid.z) for (const v of row) { if (v < zMin) zMin = v; if (v > zMax) zMax = v; }
  const span = Math.log1p(Math.max(zMax - zMin, 1e-12));
  const BANDS = 14;
  const band = new Uint8Array(w * h), level = new Float32Array(w * h);
  for (let py = 0; py < h; py++) {
    const fj = (1 - (py + 0.5) / h) * n - 0.5;           // row 0 of the grid is ymin (the bottom)
    for (let px = 0; px < w; px++) {
      const t = Math.log1p(at(((px + 0.5) / w) * m - 0.5, fj) - zMin) / span;   // 0 (low) .. 1 (high), log scale
      level[py * w + px] = t;
      band[py * w + px] = Math.min(BANDS - 1, Math.floor(t * BANDS));
    }
  }
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let k = 0; k < w * h; k++) {
    // light (low) to slate (high); a contour line where the band changes
    const t = (band[k] + 0.5) / BANDS;
    const edge = (k % w < w - 1 && band[k + 1] !== band[k]) || (k + w < w * h && band[k + w] !== band[k]);
    const shade = edge ? 0.78 : 1;
    img.data[4 * k] = (252 - 110 * t) * shade;
    img.data[4 * k + 1] = (252 - 98 * t) * shade;
    img.data[4 * k + 2] = (253 - 72 * t) * shade;
    img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  background = { canvas, key };
  return canvas;
}

function drawMarker(ctx, x, y, kind, color) {
  ctx.save();
  ctx.strokeStyle = color; ctx.lineWidth = 2.5;
  ctx.beginPath();
  if (kind === "min") { ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6); }
  else ctx.arc(x, y, 7, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}

function travelled(points, step) {
  let d = 0;
  for (let k = 1; k <= Math.min(step, points.length - 1); k++) d += Math.hypot(points[k][0] - points[k - 1][0], points[k][1] - points[k - 1][1]);
  return d;
}

function drawMap() {
  const { ctx, width, height } = fitCanvas(map);
  ctx.clearRect(0, 0, width, height);
  if (!state.result) return;
  ctx.drawImage(renderBackground(width, height), 0, 0, width, height);
  const v = view(width, height);
  for (const [mx, my] of state.result.surface.minimum) drawMarker(ctx, v.px(mx), v.py(my), "min", "#1d2330");
  const step = Math.floor(state.t);
  ctx.lineJoin = "round"; ctx.lineCap = "round";
  // the longest journeys first, so a slow optimizer's short path is drawn on top, not buried
  const order = state.result.paths.map((path, i) => [travelled(path.points, step), i]).sort((a, b) => b[0] - a[0]);
  // and each drawn a little narrower than the one below it, so paths sharing a valley all stay visible
  order.forEach(([, i], rank) => {
    const path = state.result.paths[i];
    const pts = path.points, last = Math.min(step, pts.length - 1);
    ctx.strokeStyle = RACE_COLORS[i % RACE_COLORS.length];
    ctx.lineWidth = order.length > 1 ? 6 - (3.5 * rank) / (order.length - 1) : 3;
    ctx.beginPath();
    for (let k = 0; k <= last; k++) {
      const X = v.px(pts[k][0]), Y = v.py(pts[k][1]);
      if (k === 0) ctx.moveTo(X, Y); else ctx.lineTo(X, Y);
    }
    ctx.stroke();
    const [hx, hy] = pts[last];
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath(); ctx.arc(v.px(hx), v.py(hy), 5, 0, 2 * Math.PI); ctx.fill();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
  });
  const [sx, sy] = state.result.paths[0]?.points[0] || state.request.start;
  drawMarker(ctx, v.px(sx), v.py(sy), "start", "#1d2330");
  map.dataset.paths = String(state.result.paths.length);
  map.dataset.start = JSON.stringify([sx, sy]);
  map.dataset.step = String(step);
}

// ---- the loss chart and the legend follow the animation
const lossChart = createLineChart($("loss-chart"), { xLabel: "step", yLabel: "loss" });

function optimizerLabel(spec) {
  const defaults = paramDefaults(familyParams(state.catalog.optimizers, spec.name));
  let name = spec.name;
  if (spec.name === "sgd" && spec.momentum > 0) name = spec.nesterov ? "nesterov" : "momentum";
  const changed = Object.entries(spec).filter(([k, val]) => k !== "name" && k !== "nesterov"
    && (k === "learning_rate" || val !== defaults[k]));
  return `${name} ${changed.map(([k, val]) => `${k === "learning_rate" ? "lr" : k.replace(/_/g, " ")} ${formatNumber(val, 4)}`).join(", ")}`;
}

function drawChart() {
  if (!state.result) return;
  const step = Math.floor(state.t);
  const all = state.result.paths.flatMap((p) => p.losses);
  const log = all.length > 0 && all.every((y) => y > 0);
  const finite = all.filter(Number.isFinite);
  // an invisible series spanning the whole race keeps the axes still while the lines grow
  const frame = { label: "", color: "rgba(0,0,0,0)", points: [[0, Math.min(...finite)], [state.request.steps, Math.max(...finite)]] };
  lossChart.set([frame, ...state.result.paths.map((path, i) => ({
    label: optimizerLabel(path.optimizer), color: RACE_COLORS[i % RACE_COLORS.length],
    points: path.losses.slice(0, step + 1).map((y, k) => [k, y]),
  }))], { log });
}

function renderLegend() {
  const box = $("race-legend");
  if (!state.result) { box.replaceChildren(); return; }
  const step = Math.floor(state.t);
  const rows = state.result.paths.map((path, i) => {
    const k = Math.min(step, path.losses.length - 1);
    const gone = path.diverged_at !== null && step >= path.diverged_at;
    const value = gone ? `diverged at step ${path.diverged_at}` : `loss ${formatNumber(path.losses[k], 4)}`;
    // the length of the last step: momentum's grows towards lr·|g|/(1 − β) on a constant slope
    const p = path.points, size = k > 0 ? Math.hypot(p[k][0] - p[k - 1][0], p[k][1] - p[k - 1][1]) : 0;
    return el("div", { class: "race-row", dataset: { index: String(i) } },
      el("span", { class: "race-swatch", style: `background:${RACE_COLORS[i % RACE_COLORS.length]}` }),
      el("span", { class: "race-name", text: optimizerLabel(path.optimizer) }),
      el("span", { class: "race-value race-step", text: gone ? "" : `step ${formatNumber(size, 3)}` }),
      el("span", { class: gone ? "race-value bad" : "race-value", text: value }));
  });
  box.replaceChildren(...rows);
}

let lastLegendStep = -1;
function drawFrame() {
  drawMap();
  drawChart();
  const step = Math.floor(state.t);
  if (step !== lastLegendStep) { renderLegend(); lastLegendStep = step; }
  $("step-count").textContent = `step ${step} / ${state.request.steps}`;
}
const requestDraw = frameScheduler(drawFrame);

// ---- animation at display rate: the position advances by speed x elapsed time each frame
let lastTime = null, frames = 0, frameClock = null, drawMs = 0;
function tick(now) {
  if (!state.playing) { lastTime = null; return; }
  if (lastTime !== null) state.t = Math.min(state.request.steps, state.t + ((now - lastTime) / 1000) * state.speed);
  lastTime = now;
  const t0 = performance.now();
  drawFrame();
  drawMs += performance.now() - t0;
  frames += 1;
  if (frameClock === null) frameClock = now;
  else if (now - frameClock > 1000) {   // frames per second while playing and the ms each took to draw (tests read them)
    document.body.dataset.fps = String(Math.round((frames * 1000) / (now - frameClock)));
    document.body.dataset.frameMs = (drawMs / frames).toFixed(2);
    frames = 0; drawMs = 0; frameClock = now;
  }
  if (state.t >= state.request.steps) { setPlaying(false); return; }
  requestAnimationFrame(tick);
}

function setPlaying(on) {
  state.playing = on && Boolean(state.result);
  $("play").textContent = state.playing ? "Pause" : "Play";
  $("play").classList.toggle("playing", state.playing);
  if (state.playing) {
    if (state.t >= state.request.steps) state.t = 0;
    frames = 0; drawMs = 0; frameClock = null;
    requestAnimationFrame(tick);
  }
}

// ---- asking the engine
let seq = 0;
let fetchTimer = null;
function refetch({ restart = true } = {}) {
  clearTimeout(fetchTimer);
  fetchTimer = setTimeout(() => run(restart), 150);   // typing in a field sends one request, not one per key
}

async function run(restart) {
  const mine = ++seq;
  document.body.dataset.pending = "true";
  try {
    const result = await api.optimizerPaths(state.request);
    if (mine !== seq) return;
    state.result = result;
    $("lesson-error").textContent = "";
    $("surface-doc").textContent = `${result.surface.doc || "custom surface"}. Every optimizer starts from the same point: click the map to move it.`;
    if (restart) state.t = 0;
    state.t = Math.min(state.t, state.request.steps);
    lastLegendStep = -1;
    requestDraw();
    drawPhase();
  } catch (e) {
    if (mine !== seq) return;
    $("lesson-error").textContent = e.message;
  } finally {
    if (mine === seq) document.body.dataset.pending = "false";
  }
}

// ---- controls
function surfaceFromSelect() {
  const name = $("surface").value;
  if (name !== CUSTOM) return { name };
  return { expression: $("expression").value };
}

function renderOptimizerRows() {
  const box = $("optimizers");
  const names = familyOptions(state.catalog.optimizers);
  const rows = state.request.optimizers.map((spec, i) => {
    const set = (next) => { state.request.optimizers[i] = next; renderOptimizerRows(); refetch({ restart: false }); };
    const pick = selectEl(names, spec.name, (name) => set({ name, ...paramDefaults(familyParams(state.catalog.optimizers, name)) }),
      { "aria-label": `optimizer ${i + 1}` });
    const params = familyParams(state.catalog.optimizers, spec.name);
    const fields = paramFields(params, spec, (values) => { state.request.optimizers[i] = { ...values, name: spec.name }; refetch({ restart: false }); }, { compact: true });
    const remove = el("button", { type: "button", class: "icon", title: "remove", "aria-label": `remove optimizer ${i + 1}`, text: "✕",
      onclick: () => { state.request.optimizers.splice(i, 1); renderOptimizerRows(); refetch({ restart: false }); } });
    remove.disabled = state.request.optimizers.length <= 1;
    return el("div", { class: "optimizer-row", dataset: { index: String(i) } },
      el("span", { class: "race-swatch", style: `background:${RACE_COLORS[i % RACE_COLORS.length]}` }), pick, fields, remove);
  });
  box.replaceChildren(...rows);
  $("add-optimizer").disabled = state.request.optimizers.length >= Math.min(state.lesson.max_optimizers, RACE_COLORS.length);
}

function applyRequest(request) {
  state.request = structuredClone(request);
  const named = state.request.surface.name;
  $("surface").value = named || CUSTOM;
  $("expr-field").hidden = Boolean(named);
  if (!named) $("expression").value = state.request.surface.expression;
  $("steps").value = String(state.request.steps);
  renderOptimizerRows();
  state.phase = null;
  drawPhase();
  setPlaying(false);
  refetch();
}

function wireControls() {
  const presets = Object.entries(state.lesson.presets);
  $("preset").replaceChildren(...presets.map(([name, p]) => el("option", { value: name, title: p.doc, text: name.replace(/_/g, " ") })));
  $("preset").addEventListener("change", () => applyRequest(state.lesson.presets[$("preset").value].request));
  const surfaces = Object.entries(state.lesson.surfaces);
  $("surface").replaceChildren(...surfaces.map(([name, s]) => el("option", { value: name, title: s.doc, text: name })),
    el("option", { value: CUSTOM, text: "custom expression…" }));
  $("surface").addEventListener("change", () => {
    const name = $("surface").value;
    $("expr-field").hidden = name !== CUSTOM;
    state.request.surface = surfaceFromSelect();
    // each named surface has its own good start; a custom one starts where the engine says
    state.request.start = name === CUSTOM ? null : state.lesson.surfaces[name].start;
    state.phase = null;
    setPlaying(false);
    refetch();
  });
  $("expression").addEventListener("change", () => { state.request.surface = surfaceFromSelect(); state.request.start = null; refetch(); });
  const stepsParam = state.lesson.options.find((p) => p.name === "steps");
  $("steps").min = stepsParam.min; $("steps").max = stepsParam.max;
  $("steps").addEventListener("change", () => {
    const n = Number.parseInt($("steps").value, 10);
    const ok = Number.isFinite(n) && n >= stepsParam.min && n <= stepsParam.max;
    $("steps").classList.toggle("invalid", !ok);
    if (ok) { state.request.steps = n; refetch({ restart: false }); }
  });
  $("play").addEventListener("click", () => setPlaying(!state.playing));
  $("step").addEventListener("click", () => {
    setPlaying(false);
    state.t = Math.min(state.request.steps, Math.floor(state.t) + 1);
    requestDraw();
  });
  $("restart").addEventListener("click", () => { state.t = 0; requestDraw(); setPlaying(true); });
  $("speed").addEventListener("change", () => { state.speed = Number($("speed").value); });
  $("add-optimizer").addEventListener("click", () => {
    const used = new Set(state.request.optimizers.map((o) => o.name));
    const name = Object.keys(state.catalog.optimizers).find((n) => !used.has(n)) || "sgd";
    state.request.optimizers.push({ name, ...paramDefaults(familyParams(state.catalog.optimizers, name)) });
    renderOptimizerRows();
    refetch({ restart: false });
  });
  map.addEventListener("click", (ev) => {
    if (!state.result) return;
    const rect = map.getBoundingClientRect();
    const v = view(rect.width, rect.height);
    state.request.start = v.fromPx(ev.clientX - rect.left, ev.clientY - rect.top).map((c) => Number(c.toFixed(4)));
    state.phase = null;
    drawPhase();
    refetch();
    setPlaying(false);
  });
  $("phase-run").addEventListener("click", runPhase);
  watchSize(map, requestDraw);
  watchSize($("phase-map"), drawPhase);
}

// ---- the momentum phase diagram
async function runPhase() {
  if (!state.result) return;
  $("phase-status").textContent = "computing…";
  const body = { surface: state.request.surface, start: state.result.paths[0].points[0], steps: state.request.steps };
  try {
    state.phase = await api.momentumPhase(body);
    $("phase-status").textContent = `${state.phase.steps} steps, converged when the loss is within ${state.phase.tolerance} of the minimum`;
  } catch (e) {
    state.phase = null;
    $("phase-status").textContent = e.message;
  }
  drawPhase();
}

function drawPhase() {
  const canvas = $("phase-map");
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  canvas.dataset.cells = "0";
  const ph = state.phase;
  if (!ph) {
    ctx.fillStyle = "#5b6475"; ctx.font = "14px system-ui, sans-serif";
    ctx.fillText("press Compute phase diagram", 16, 28);
    return;
  }
  const narrow = width < 560;   // phones: the key goes under the plot, only the end ticks are labelled
  const m = { l: 64, r: narrow ? 16 : 200, t: 10, b: narrow ? 44 + 2 * 24 : 44 };
  const L = ph.learning_rates.length, M = ph.momentums.length;
  const cw = (width - m.l - m.r) / L, chh = (height - m.t - m.b) / M;
  const maxSteps = ph.steps;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < L; j++) {
      const x = m.l + j * cw, y = m.t + (M - 1 - i) * chh;   // beta grows upwards
      const conv = ph.converged_at[i][j], div = ph.diverged_at[i][j];
      if (div !== null) {
        ctx.fillStyle = "#e4e6ea"; ctx.fillRect(x, y, cw, chh);
        ctx.strokeStyle = "#9aa1ad"; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(x, y + chh); ctx.lineTo(x + cw, y); ctx.stroke();
      } else if (conv !== null) {
        const t = Math.log1p(conv) / Math.log1p(maxSteps);     // 0 fast .. 1 slow
        ctx.fillStyle = `rgb(${Math.round(8 + 200 * t)}, ${Math.round(48 + 170 * t)}, ${Math.round(107 + 130 * t)})`;
        ctx.fillRect(x, y, cw, chh);
      }
    }
  }
  ctx.strokeStyle = "#d9dde4"; ctx.strokeRect(m.l, m.t, L * cw, M * chh);
  // axes: learning rate (log) across, momentum up
  ctx.fillStyle = "#1d2330"; ctx.font = "13px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const j of narrow ? [0, L - 1] : [0, Math.floor((L - 1) / 2), L - 1]) ctx.fillText(formatNumber(ph.learning_rates[j], 2), m.l + (j + 0.5) * cw, m.t + M * chh + 4);
  ctx.fillText("learning rate (log scale)", m.l + (L * cw) / 2, m.t + M * chh + 22);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const i of [0, Math.floor((M - 1) / 2), M - 1]) ctx.fillText(formatNumber(ph.momentums[i], 2), m.l - 6, m.t + (M - 1 - i + 0.5) * chh);
  ctx.save(); ctx.translate(14, m.t + (M * chh) / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
  ctx.fillText("momentum β", 0, 0); ctx.restore();
  // key
  const kx0 = narrow ? 16 : m.l + L * cw + 16, ky0 = narrow ? m.t + M * chh + 50 : m.t + 10;
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  const keys = [["rgb(8, 48, 107)", "converges fast"], ["rgb(208, 218, 237)", `slow (~${maxSteps} steps)`], ["#e4e6ea", "diverges"], ["#ffffff", "not converged"]];
  keys.forEach(([c, text], k) => {
    const kx = narrow ? kx0 + (k % 2) * 160 : kx0, y = narrow ? ky0 + Math.floor(k / 2) * 24 : ky0 + k * 24;
    ctx.fillStyle = c; ctx.fillRect(kx, y - 8, 16, 16); ctx.strokeStyle = "#9aa1ad"; ctx.strokeRect(kx, y - 8, 16, 16);
    if (k === 2) { ctx.beginPath(); ctx.moveTo(kx, y + 8); ctx.lineTo(kx + 16, y - 8); ctx.stroke(); }   // hatched, as the cells
    ctx.fillStyle = "#1d2330"; ctx.fillText(text, kx + 22, y);
  });
  // the momentum optimizers on the page, where they sit in the diagram
  const lrs = ph.learning_rates, lo = Math.log(lrs[0]), hi = Math.log(lrs[L - 1]);
  const b0 = ph.momentums[0], b1 = ph.momentums[M - 1];
  (state.request.optimizers || []).forEach((o, k) => {
    if (o.name !== "sgd" || o.nesterov || !(o.learning_rate >= lrs[0] && o.learning_rate <= lrs[L - 1])) return;
    const fx = (Math.log(o.learning_rate) - lo) / (hi - lo), fy = (o.momentum - b0) / (b1 - b0);
    if (fy < 0 || fy > 1) return;
    const x = m.l + (fx * (L - 1) + 0.5) * cw, y = m.t + ((1 - fy) * (M - 1) + 0.5) * chh;
    ctx.fillStyle = RACE_COLORS[k % RACE_COLORS.length];
    ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.fill();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke();
  });
  canvas.dataset.cells = String(L * M);
}

async function start() {
  mountTokenBox();
  try {
    [state.catalog, state.lesson] = await Promise.all([api.getCatalog(), api.getOptimizersLesson()]);
  } catch (e) {
    $("lesson-error").textContent = e.message;
    return;
  }
  wireControls();
  applyRequest(state.lesson.presets.comparison.request);
  document.body.dataset.ready = "true";
}

start();
