// drawing for /autoencoder: the code-space scatter, 28x28 pictures, the loss chart. Draws only what it is given.

// ten colour-blind-safe hues (Okabe-Ito's eight plus two), one per digit
export const DIGIT_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
  "#d55e00", "#f0e442", "#000000", "#999999", "#8c510a"];

/** bounds [[x0, x1], [y0, y1]] around 2-D points with a 6 % margin */
export function boundsOf(points) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  }
  if (!Number.isFinite(x0)) return [[-1, 1], [-1, 1]];
  const mx = (x1 - x0 || 1) * 0.06, my = (y1 - y0 || 1) * 0.06;
  return [[x0 - mx, x1 + mx], [y0 - my, y1 + my]];
}

/** draw points (codes' first two values) coloured by label into `canvas`; returns the bounds used */
export function drawCodes(canvas, codes, labels, bounds, marker = null) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const [[x0, x1], [y0, y1]] = bounds;
  const px = (x) => ((x - x0) / (x1 - x0)) * w;
  const py = (y) => h - ((y - y0) / (y1 - y0)) * h;
  ctx.globalAlpha = 0.75;
  codes.forEach((c, i) => {
    ctx.fillStyle = DIGIT_COLOURS[(labels?.[i] ?? 0) % DIGIT_COLOURS.length];
    ctx.fillRect(px(c[0]) - 2, py(c[1]) - 2, 4, 4);
  });
  ctx.globalAlpha = 1;
  if (marker) {
    ctx.strokeStyle = "#b00020";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(px(marker[0]), py(marker[1]), 7, 0, 2 * Math.PI);
    ctx.stroke();
  }
  canvas.dataset.points = String(codes.length);
}

/** a click at (offsetX, offsetY) on the canvas -> the code point [x, y] under it */
export function codeAt(canvas, bounds, clientX, clientY) {
  const r = canvas.getBoundingClientRect();
  const [[x0, x1], [y0, y1]] = bounds;
  const fx = (clientX - r.left) / r.width, fy = (clientY - r.top) / r.height;
  return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
}

/** a base64 uint8 28x28 picture into a 28x28 canvas (0 = white, 255 = black ink) */
export function drawPicture(canvas, b64) {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i += 1) {
    const v = 255 - bytes[i];
    img.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  canvas.classList.remove("empty");
}

/** a row of 28x28 canvases for the pictures */
export function drawStrip(container, pictures, label) {
  container.replaceChildren(...pictures.map((b64, i) => {
    const c = document.createElement("canvas");
    c.width = 28; c.height = 28;
    c.setAttribute("aria-label", `${label} ${i + 1}`);
    drawPicture(c, b64);
    return c;
  }));
}

/** train and test loss per epoch as two lines */
export function drawLoss(canvas, history) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const series = [["train_loss", "#0072b2"], ["test_loss", "#d55e00"]];
  const values = history.flatMap((r) => series.map(([k]) => r[k]).filter(Number.isFinite));
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#5b6475";
  if (!values.length) { ctx.fillText("loss per epoch (train blue, test orange)", 8, 16); return; }
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const n = Math.max(history.length - 1, 1);
  for (const [key, colour] of series) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach((r, i) => {
      const x = 30 + (i / n) * (w - 40), y = 22 + (1 - (r[key] - lo) / span) * (h - 42);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
  ctx.fillText(`loss ${hi.toPrecision(3)}`, 2, 14);
  ctx.fillText(`${lo.toPrecision(3)}  epoch ${history.length} (train blue, test orange)`, 2, h - 4);
}
