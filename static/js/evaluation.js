// end-of-training evaluation for digit models: confusion matrix and a gallery of misread test digits.
import { base64ToBytes, el } from "./draw-util.js";
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

/** confusion matrix as a table (rows true class, columns predicted), with the accuracy above it;
 * a non-empty cell is a button when `onCell(label, predicted)` is given (it shows the digits behind it) */
export function renderConfusion(container, matrix, names, summary = {}, onCell = null) {
  const n = matrix.length;
  const labels = names || Array.from({ length: n }, (_, i) => String(i));
  const rowSum = matrix.map((r) => r.reduce((a, b) => a + b, 0));
  const table = el("table", { class: "confusion", "aria-label": "confusion matrix: rows true digit, columns predicted" },
    el("thead", {}, el("tr", {}, el("th", { class: "corner", text: "true \u2193  read \u2192" }), labels.map((l) => el("th", { scope: "col", text: l })))),
    el("tbody", {}, matrix.map((row, i) => el("tr", {}, el("th", { scope: "row", text: labels[i] }),
      row.map((v, j) => {
        const t = v / Math.max(1, rowSum[i]);
        // diagonal: blue by recall; off-diagonal: vermilion, boosted so rare confusions still show
        const bg = i === j ? `rgba(0,114,178,${0.12 + 0.88 * t})` : v ? `rgba(213,94,0,${0.12 + 0.88 * Math.min(1, t * 5)})` : "#f6f7f9";
        const dark = i === j ? t > 0.45 : t * 5 > 0.6;
        const td = el("td", { class: i === j ? "diag" : v ? "miss" : "zero", style: `background:${bg};color:${dark ? "#fff" : "#1d2330"}`,
          title: `true ${labels[i]}, read as ${labels[j]}: ${v}`, text: String(v) });
        if (onCell && v) {
          Object.assign(td.dataset, { label: String(i), predicted: String(j) });
          td.tabIndex = 0;
          td.setAttribute("role", "button");
          td.setAttribute("aria-label", `show the ${v} test digits that are ${labels[i]} read as ${labels[j]}`);
          td.addEventListener("click", () => onCell(i, j, td));
          td.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); onCell(i, j, td); } });
        }
        return td;
      })))));
  const total = summary.n ?? rowSum.reduce((a, b) => a + b, 0);
  const acc = summary.accuracy;
  const head = el("p", { class: "eval-summary" },
    acc !== undefined ? el("strong", { text: `${(acc * 100).toFixed(1)}% correct` }) : "",
    ` on ${total.toLocaleString()} test images · rows: true digit, columns: what the network read`);
  container.replaceChildren(head, table);
  container.dataset.n = String(total);
}

/** the most confidently misread test digits: image, true label and what the network read */
export function renderGallery(container, items) {
  if (!items.length) {
    container.replaceChildren(el("p", { class: "muted", text: "no misread test digits" }));
    return;
  }
  container.replaceChildren(...items.map((it) => {
    const cv = el("canvas", { width: 28, height: 28, "aria-label": `test digit ${it.index ?? ""}` });
    const rows = imageRows(it.image);
    if (rows) drawInk(cv, rows);
    const conf = it.probability;
    return el("figure", { title: `test image #${it.index ?? "?"}: true ${it.label}, read as ${it.predicted}` }, cv,
      el("figcaption", {}, el("span", { class: "truth", text: String(it.label) }), " → ",
        el("span", { class: "read", text: String(it.predicted) }),
        conf !== undefined ? el("span", { class: "conf", text: ` ${Math.round(conf * 100)}%` }) : ""));
  }));
}

/** signed weight pictures (base64 uint8, 128 = 0) as small canvases: blue negative, white zero, orange positive */
export function renderFilters(container, layer, captions = null) {
  const ramp = (v) => {          // v in -1..1 -> [r, g, b] on the colour-blind-safe blue / orange pair
    const [r, g, b] = v < 0 ? [0, 114, 178] : [230, 159, 0];
    const t = Math.min(1, Math.abs(v));
    return [255 + (r - 255) * t, 255 + (g - 255) * t, 255 + (b - 255) * t];
  };
  container.replaceChildren(...layer.images.map((b64, i) => {
    const bytes = base64ToBytes(b64);
    const cv = el("canvas", { width: layer.width, height: layer.height, class: "filter",
      "aria-label": `${layer.type === "conv2d" ? "filter" : "unit"} ${i + 1}` });
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(layer.width, layer.height);
    bytes.forEach((v, k) => { const [r, g, b] = ramp((v - 127.5) / 127.5); img.data.set([r, g, b, 255], k * 4); });
    ctx.putImageData(img, 0, 0);
    return el("figure", {}, cv, el("figcaption", { text: captions?.[i] ?? String(i + 1) }));
  }));
  container.dataset.count = String(layer.images.length);
}
