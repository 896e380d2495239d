// drawing pad: pointer events (mouse, pen, touch), HiDPI backing store, coordinates from
// getBoundingClientRect so scrolling and CSS scaling never shift the ink; undo / clear.
import { fitCanvas, frameScheduler, watchSize } from "./draw-util.js";

const PEN = 0.065; // pen width as a fraction of the pad's side

/**
 * mountDrawpad(canvas, {onChange(strokes, {final})}) -> {clear, undo, strokes, showImage}.
 * strokes are [[x, y], ...] lists in CSS pixels of the pad.
 */
export function mountDrawpad(canvas, { onChange }) {
  let strokes = [];
  let current = null;
  let image = null; // a 28x28 sample shown instead of strokes: rows of 0..1 ink

  const draw = () => {
    const { ctx, width, height } = fitCanvas(canvas);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    if (image) {
      const n = image.length;
      const cell = Math.min(width, height) / n;
      ctx.fillStyle = "#000";
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
        const v = image[r][c];
        if (v <= 0.02) continue;
        ctx.globalAlpha = Math.min(1, v);
        ctx.fillRect(c * cell, r * cell, cell + 0.5, cell + 0.5);
      }
      ctx.globalAlpha = 1;
      return;
    }
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineWidth = PEN * Math.min(width, height);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const s of strokes) {
      if (s.length === 1) {
        ctx.beginPath(); ctx.arc(s[0][0], s[0][1], ctx.lineWidth / 2, 0, Math.PI * 2); ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(s[0][0], s[0][1]);
      for (let i = 1; i < s.length; i++) ctx.lineTo(s[i][0], s[i][1]);
      ctx.stroke();
    }
  };
  const request = frameScheduler(draw);
  watchSize(canvas, request);

  const point = (ev) => {
    const rect = canvas.getBoundingClientRect();
    // client coordinates minus the box: correct when the page is scrolled or the canvas is scaled
    return [Math.round((ev.clientX - rect.left) * 10) / 10, Math.round((ev.clientY - rect.top) * 10) / 10];
  };

  canvas.addEventListener("pointerdown", (ev) => {
    if (ev.button !== undefined && ev.button > 0) return;
    ev.preventDefault();
    canvas.setPointerCapture?.(ev.pointerId);
    if (image) { image = null; strokes = []; }
    current = [point(ev)];
    strokes.push(current);
    request();
    onChange(strokes, { final: false });
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!current) return;
    ev.preventDefault();
    const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
    for (const e of events.length ? events : [ev]) current.push(point(e));
    request();
    onChange(strokes, { final: false });
  });
  const end = () => {
    if (!current) return;
    current = null;
    onChange(strokes, { final: true });
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  return {
    clear() { strokes = []; image = null; request(); onChange(strokes, { final: true }); },
    undo() { if (image) { image = null; } else { strokes.pop(); } request(); onChange(strokes, { final: true }); },
    strokes: () => strokes,
    showImage(rows) { image = rows; strokes = []; request(); },
    showingImage: () => image !== null,
    size: () => {
      const r = canvas.getBoundingClientRect();
      return { width: Math.round(r.width), height: Math.round(r.height) };
    },
  };
}

/** a 28x28 ink image (rows of 0..1) as a PNG data URL, black ink on white, upscaled */
export function inkToDataUrl(rows, scale = 4) {
  const n = rows.length;
  const cv = document.createElement("canvas");
  cv.width = n * scale; cv.height = n * scale;
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(n * scale, n * scale);
  for (let y = 0; y < n * scale; y++) for (let x = 0; x < n * scale; x++) {
    const v = 255 - Math.round(255 * Math.max(0, Math.min(1, rows[Math.floor(y / scale)][Math.floor(x / scale)])));
    const i = (y * n * scale + x) * 4;
    img.data[i] = v; img.data[i + 1] = v; img.data[i + 2] = v; img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return cv.toDataURL("image/png");
}

/** draw a 28x28 ink image (0..1, ink = 1) as white on black into a canvas */
export function drawInk(canvas, rows) {
  const n = rows.length;
  canvas.width = n; canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, rows[r][c])));
    const i = (r * n + c) * 4;
    img.data[i] = v; img.data[i + 1] = v; img.data[i + 2] = v; img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
