// end-of-training evaluation for digit models: confusion matrix and a gallery of misread test digits.
import { base64ToBytes, el, formatNumber } from "./draw-util.js";
import { drawInk } from "./drawpad.js";

/** an image from the server as 28x28 rows of 0..1 (nested lists, flat lists or base64 uint8) */
export function imageRows(img, side = 28) {
  if (!img) return null;
  let flat;
  if (typeof img === "string") flat = Array.from(base64ToBytes(img), (v) => v / 255);
  else if (Array.isArray(img[0])) return img.map((r) => r.map((v) => (v > 1 ? v / 255 : v)));
  else flat = img.map((v) => (v > 1 ? v / 255 : v));
  const rows = [];
  for (let r = 0; r < side; r++) rows.push(flat.slice(r * side, (r + 1) * side));
  return rows;
}

export function renderConfusion(container, matrix, names) {
  const n = matrix.length;
  const labels = names || Array.from({ length: n }, (_, i) => String(i));
  const rowMax = matrix.map((r) => Math.max(1, r.reduce((a, b) => a + b, 0)));
  const table = el("table", { class: "confusion", "aria-label": "confusion matrix: rows true digit, columns predicted" },
    el("thead", {}, el("tr", {}, el("th", { text: "true \\ pred" }), labels.map((l) => el("th", { text: l })))),
    el("tbody", {}, matrix.map((row, i) => el("tr", {}, el("th", { text: labels[i] }),
      row.map((v, j) => {
        const t = v / rowMax[i];
        const bg = i === j ? `rgba(0,114,178,${0.15 + 0.85 * t})` : v ? `rgba(213,94,0,${0.15 + 0.85 * Math.min(1, t * 4)})` : "#f6f7f9";
        return el("td", { style: `background:${bg};color:${t > 0.5 ? "#fff" : "#111"}`, title: `true ${labels[i]}, predicted ${labels[j]}: ${v}`, text: String(v) });
      })))));
  container.replaceChildren(table);
}

export function renderGallery(container, items) {
  container.replaceChildren(...items.map((it) => {
    const cv = el("canvas", { width: 28, height: 28 });
    const rows = imageRows(it.image ?? it.input);
    if (rows) drawInk(cv, rows);
    const conf = it.probability ?? it.confidence;
    return el("figure", {}, cv, el("figcaption", { text: `${it.label ?? it.true} → ${it.predicted ?? it.pred}${conf !== undefined ? ` (${formatNumber(conf, 2)})` : ""}` }));
  }));
}
