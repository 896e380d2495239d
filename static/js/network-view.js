// network diagram: inputs, hidden neurons (each with its own small map from the stream), outputs;
// links drawn with width/colour from the weights (GET /weights, refreshed by the caller), hover shows the value.
import { base64ToBytes, classColor, divergingRgb, el, formatNumber, frameScheduler, watchSize } from "./draw-util.js";

const MAX_NODES = 12;        // per column; the rest is summarised as "+n"
const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * columns of the diagram from the model: [{label, layerIndex, units, kind}]. `width` is the engine's input
 * width (summary.input_shape); inline data of another width than the features has its columns as inputs.
 */
export function diagramColumns(model, features, width = features.length) {
  const names = width === features.length ? features : Array.from({ length: width }, (_, i) => `x${i + 1}`);
  const cols = [{ label: "input", layerIndex: -1, units: width, kind: "input", names }];
  const layers = model?.layers || [];
  layers.forEach((l, i) => {
    if (l.units === undefined) return; // dropout, activation, batchnorm keep the width
    const last = i === layers.length - 1;
    cols.push({ label: last ? "output" : `layer ${i + 1}`, layerIndex: i, units: l.units, kind: last ? "output" : "hidden",
      activation: typeof l.activation === "object" ? l.activation?.name : l.activation });
  });
  return cols;
}

/** a weight as the hover shows it: 7 significant digits, enough to check a worked example by hand */
export function weightText(v) {
  return v === undefined || v === null ? "?" : formatNumber(v, 7);
}

export function mountNetworkView(container, store) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.classList.add("net-links");
  const nodesBox = el("div", { class: "net-nodes" });
  const tip = el("div", { class: "net-tip", role: "status" });
  container.replaceChildren(svg, nodesBox, tip);
  let structureKey = "";
  let neuronCanvases = new Map(); // "layer:unit" -> canvas
  let links = [];                 // [{line, key, from, to}]

  const build = () => {
    const s = store.get();
    const features = s.dataset?.features || s.summary?.features || s.catalog?.default_features || [];
    const flat = s.summary?.input_shape?.length === 1 ? s.summary.input_shape[0] : features.length;
    const cols = diagramColumns(s.model, features, flat);
    const width = container.clientWidth || 400;
    const height = container.clientHeight || 260;
    const key = JSON.stringify([cols, width, height]);
    if (key === structureKey) return false;
    structureKey = key;
    svg.setAttribute("width", width); svg.setAttribute("height", height);
    svg.replaceChildren();
    nodesBox.replaceChildren();
    neuronCanvases = new Map();
    links = [];
    const node = Math.max(18, Math.min(40, Math.floor((height - 20) / MAX_NODES) - 4));
    const xs = cols.map((_, c) => 12 + node / 2 + (c * (width - 24 - node)) / Math.max(1, cols.length - 1));
    const pos = cols.map((col) => {
      const shown = Math.min(col.units, MAX_NODES);
      const gap = Math.min(node + 8, (height - 24) / Math.max(1, shown));
      const top = height / 2 - ((shown - 1) * gap) / 2;
      return Array.from({ length: shown }, (_, j) => top + j * gap);
    });
    // links first so nodes sit on top
    for (let c = 1; c < cols.length; c++) {
      const wKey = `${cols[c].layerIndex}.W`;
      pos[c - 1].forEach((y0, a) => pos[c].forEach((y1, b) => {
        // one link = the drawn wire plus a wide transparent line on top, so a 1-px wire is easy to hover
        const ends = { x1: xs[c - 1] + node / 2, y1: y0, x2: xs[c] - node / 2, y2: y1 };
        const group = document.createElementNS(SVG_NS, "g");
        group.classList.add("link");
        const [line, hit] = ["wire", "hit"].map((cls) => {
          const l = document.createElementNS(SVG_NS, "line");
          for (const [k, v] of Object.entries(ends)) l.setAttribute(k, v);
          l.classList.add(cls);
          return l;
        });
        line.setAttribute("stroke", "#bbb"); line.setAttribute("stroke-width", "1");
        const title = document.createElementNS(SVG_NS, "title");
        group.append(title, line, hit);
        Object.assign(group.dataset, { key: wKey, a: String(a), b: String(b) });
        const from = cols[c - 1].kind === "input" ? cols[c - 1].names[a] : `${cols[c - 1].label} unit ${a + 1}`;
        // W is (n_in, n_out): this link is W[a][b], read from the weights the run reported last
        group.addEventListener("mouseenter", () => {
          const v = store.get().weights?.[wKey]?.[a]?.[b];
          tip.textContent = `${from} → ${cols[c].label} unit ${b + 1}: ${wKey}[${a}][${b}] = ${weightText(v)}`;
        });
        svg.append(group);
        links.push({ line, title, key: wKey, a, b });
      }));
    }
    cols.forEach((col, c) => {
      pos[c].forEach((y, j) => {
        const box = el("div", { class: `net-node ${col.kind}`, style: `left:${xs[c] - node / 2}px;top:${y - node / 2}px;width:${node}px;height:${node}px` });
        if (col.kind === "input") box.textContent = col.names[j] ?? "";
        else if (col.kind === "output") box.style.background = col.units === 1 ? "linear-gradient(90deg," + classColor(0) + "," + classColor(1) + ")" : classColor(j);
        else {
          const cv = el("canvas", { width: 16, height: 16, title: `${col.label} neuron ${j + 1}` });
          box.append(cv);
          neuronCanvases.set(`${col.layerIndex}:${j}`, cv);
        }
        nodesBox.append(box);
      });
      const more = col.units - pos[c].length;
      // first and last labels hug the edges so long ones ("output · softmax") are never cut
      const place = c === 0 ? "left:0;text-align:left"
        : c === cols.length - 1 ? "right:0;text-align:right"
          : `left:${Math.max(0, Math.min(width - 80, xs[c] - 40))}px`;
      nodesBox.append(el("div", { class: "net-col-label", style: `${place};top:${height - 16}px`,
        title: more > 0 ? `${pos[c].length} of ${col.units} neurons shown` : undefined,
        text: more > 0 ? `${col.label} (+${more})` : `${col.label}${col.activation && col.kind !== "input" ? " · " + col.activation : ""}` }));
    });
    return true;
  };

  const paintNeurons = () => {
    const frame = store.get().boundary;
    for (const n of frame?.neurons || []) {
      const r = n.resolution;
      const bytes = base64ToBytes(n.data); // (units, r, r)
      for (let u = 0; u < Math.min(n.units, MAX_NODES); u++) {
        const cv = neuronCanvases.get(`${n.layer}:${u}`);
        if (!cv) continue;
        if (cv.width !== r) { cv.width = r; cv.height = r; }
        const img = new ImageData(r, r);
        for (let i = 0; i < r * r; i++) {
          const [R, G, B] = divergingRgb((bytes[u * r * r + i] / 127.5 - 1) * 0.9);
          img.data[i * 4] = R; img.data[i * 4 + 1] = G; img.data[i * 4 + 2] = B; img.data[i * 4 + 3] = 255;
        }
        cv.getContext("2d").putImageData(img, 0, 0);
      }
    }
  };

  const paintLinks = () => {
    const weights = store.get().weights || {};
    let maxAbs = 0;
    for (const l of links) { const v = weights[l.key]?.[l.a]?.[l.b]; if (v !== undefined) maxAbs = Math.max(maxAbs, Math.abs(v)); }
    for (const l of links) {
      const v = weights[l.key]?.[l.a]?.[l.b];
      if (v === undefined || !maxAbs) {
        l.line.setAttribute("stroke", "#ccc"); l.line.setAttribute("stroke-width", "1");
        l.title.textContent = "w = ?";
        continue;
      }
      const t = v / maxAbs;
      const [r, g, b] = divergingRgb(Math.sign(t) * (0.35 + 0.65 * Math.abs(t)));
      l.line.setAttribute("stroke", `rgb(${r | 0},${g | 0},${b | 0})`);
      l.line.setAttribute("stroke-width", (0.5 + 4 * Math.abs(t)).toFixed(2));
      l.title.textContent = `w = ${weightText(v)}`;
    }
  };

  const draw = () => {
    const rebuilt = build();
    paintNeurons();
    paintLinks();
    container.dataset.links = String(links.length);
    if (rebuilt) tip.textContent = "hover a link to see its weight";
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => {
    if ("model" in patch || "dataset" in patch || "summary" in patch || "boundary" in patch || "weights" in patch) request();
  });
  watchSize(container, request);
  request();
}
