// the hidden space (playground, 2-D data): the data points and the input grid's lines as a chosen hidden layer
// sees them, from the trainer's hidden_space frames (engine/hidden_space.py decides the axes: a 2-unit layer's own
// coordinates, two chosen units, or the first two principal directions). This module only draws and offers the
// layer to show; the engine refuses a layer it cannot draw.
import { frameScheduler } from "./draw-util.js";

const CLASS_COLOURS = ["#e69f00", "#0072b2", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];

function floats(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function draw(canvas, frame) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 240, h = canvas.clientHeight || 240;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const [[x0, x1], [y0, y1]] = frame.bounds;
  const sx = (x1 - x0) || 1, sy = (y1 - y0) || 1;
  const px = (x) => 6 + ((x - x0) / sx) * (w - 12), py = (y) => h - 6 - ((y - y0) / sy) * (h - 12);
  const grid = floats(frame.grid), pts = floats(frame.points), per = frame.points_per_line;
  ctx.strokeStyle = "#c3c8d2";
  ctx.lineWidth = 1;
  for (let l = 0; l < frame.lines; l += 1) {        // each input grid line, bent as the layer sees it
    ctx.beginPath();
    for (let p = 0; p < per; p += 1) {
      const i = 2 * (l * per + p);
      if (p === 0) ctx.moveTo(px(grid[i]), py(grid[i + 1])); else ctx.lineTo(px(grid[i]), py(grid[i + 1]));
    }
    ctx.stroke();
  }
  for (let n = 0; n < frame.n_points; n += 1) {
    ctx.fillStyle = CLASS_COLOURS[(frame.labels?.[n] ?? 0) % CLASS_COLOURS.length];
    ctx.beginPath();
    ctx.arc(px(pts[2 * n]), py(pts[2 * n + 1]), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  canvas.dataset.epoch = String(frame.epoch);
  canvas.dataset.frames = String(Number(canvas.dataset.frames || 0) + 1);
  canvas.dataset.first = canvas.dataset.first || frame.points.slice(0, 64);
  canvas.dataset.moved = String(canvas.dataset.first !== frame.points.slice(0, 64));
}

/** the layer picker and the view; `onLayer(index | null)` changes stream.hidden_layer */
export function mountHiddenSpace(root, store, { onLayer }) {
  const canvas = root.querySelector("canvas");
  const select = root.querySelector("select");
  const note = root.querySelector(".hidden-note");
  const options = () => {
    const layers = store.get().model?.layers || [];
    const chosen = store.get().stream?.hidden_layer ?? null;
    select.replaceChildren(new Option("off", ""), ...layers.slice(0, -1).map((l, i) =>
      new Option(`layer ${i + 1} (${l.units ?? ""} ${l.type})`, String(i), false, chosen === i)));
    select.value = chosen === null || chosen >= layers.length - 1 ? "" : String(chosen);
    root.classList.toggle("active", select.value !== "");
    // a k-NN or a linear classifier has no hidden layer: nothing to pick
    root.classList.toggle("none", layers.length < 2);
  };
  const schedule = frameScheduler(() => {
    const frame = store.get().hiddenSpace;
    if (!frame) return;
    draw(canvas, frame);
    note.textContent = frame.axes === "pca" ? `layer ${frame.layer + 1}, first two principal directions`
      : `layer ${frame.layer + 1}, units ${frame.units[0] + 1} and ${frame.units[1] + 1}`;
  });
  select.addEventListener("change", () => onLayer(select.value === "" ? null : Number(select.value)));
  store.subscribe((_, patch) => {
    if ("model" in patch || "stream" in patch) options();
    if ("hiddenSpace" in patch) {
      if (!store.get().hiddenSpace) { delete canvas.dataset.first; canvas.dataset.frames = "0"; }
      canvas.hidden = !store.get().hiddenSpace;
      schedule();
    }
  });
  options();
}
