// network diagram, which is also the editor (TensorFlow Playground's): inputs as feature maps clicked to toggle,
// hidden neurons with their own maps (from the boundary frame), +/- neurons and layers, the activation picked in
// the column header, links coloured by weight; hover a link for its weight and the formula of the neuron it
// feeds, click a link or a bias to type a new value (the caller applies it to the run or to the start).
import { base64ToBytes, classColor, divergingRgb, el, formatNumber, watchSize, frameScheduler } from "./draw-util.js";

const MAX_NODES = 12;        // per column; the rest is summarised as "+n"
const SVG_NS = "http://www.w3.org/2000/svg";
const HEAD = 46;             // px above the nodes: column header (activation, +/-)
const FOOT = 18;             // px below: column labels

const actName = (a) => (a && typeof a === "object" ? a.name : a);

/** "layer 2 · dropout 0.5": how a layer that keeps the width (dropout, batchnorm, activation) is drawn */
function passLabel(l) {
  if (l.type === "dropout") return `dropout ${l.rate ?? ""}`.trim();
  if (l.type === "activation") return actName(l.activation) || "activation";
  return l.type;
}

/**
 * columns of the diagram from the model: [{label, layerIndex, units, kind}]. `width` is the engine's input
 * width (summary.input_shape); inline data of another width than the features has its columns as inputs.
 * Layers without units (dropout, batchnorm, activation) are "pass" columns: drawn as a bar, not as neurons.
 * Numbering is the builder's: "layer i+1" is model.layers[i].
 */
export function diagramColumns(model, features, width = features.length) {
  const names = width === features.length ? features : Array.from({ length: width }, (_, i) => `x${i + 1}`);
  const cols = [{ label: "input", layerIndex: -1, units: width, kind: "input", names }];
  const layers = model?.layers || [];
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    if (l.units === undefined) { cols.push({ label: `layer ${i + 1}`, layerIndex: i, kind: "pass", text: passLabel(l) }); return; }
    cols.push({ label: last ? "output" : `layer ${i + 1}`, layerIndex: i, units: l.units, kind: last ? "output" : "hidden",
      type: l.type, activation: actName(l.activation), frozen: l.trainable === false, pieces: l.pieces });
  });
  return cols;
}

/** a weight as the hover shows it: 7 significant digits, enough to check a worked example by hand */
export function weightText(v) {
  return v === undefined || v === null ? "?" : formatNumber(v, 7);
}

const short = (v) => (v === undefined || v === null ? "?" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

/**
 * A maxout unit's weights: W is (n_in, units * pieces) and unit b owns columns b*P .. b*P+P-1 (the engine's
 * reshape to (N, units, pieces)). The link a -> b stands for its P weights; it is drawn (and edited) as the
 * piece with the largest |w|. Returns {index: column, value, all: [P values]}.
 */
export function maxoutLink(W, a, b, pieces) {
  const all = Array.from({ length: pieces }, (_, k) => W?.[a]?.[b * pieces + k]);
  let best = 0;
  all.forEach((v, k) => { if (Math.abs(v ?? 0) > Math.abs(all[best] ?? 0)) best = k; });
  return { index: b * pieces + best, value: all[best], all };
}

/** `h = max(0.84·x1 − 1.20·x2 + 0.05, …)`: maxout unit `b`, the max of its `pieces` linear pieces */
export function maxoutFormula(names, W, bias, b, pieces) {
  const cols = Array.from({ length: pieces }, (_, k) => b * pieces + k);
  const linear = cols.map((j) => neuronFormula("linear", names, W, bias, j, 3).slice(4));   // drop "h = "
  return `h = max(${linear.join(", ")})`;
}

/** `h = tanh(0.84·x1 − 1.20·x2 + 0.05)`: the neuron `b` fed by inputs `names` (W (n_in, n_out), bias (n_out)) */
export function neuronFormula(activation, names, W, bias, b, maxTerms = 6) {
  const terms = [];
  names.slice(0, maxTerms).forEach((n, a) => {
    const w = W?.[a]?.[b];
    const sign = terms.length === 0 ? (w < 0 ? "−" : "") : w < 0 ? " − " : " + ";
    terms.push(`${sign}${w === undefined ? "?" : short(Math.abs(w))}·${n}`);
  });
  if (names.length > maxTerms) terms.push(" + …");
  const bv = bias?.[b];
  const sum = `${terms.join("")}${bv === undefined ? "" : `${bv < 0 ? " − " : " + "}${short(Math.abs(bv))}`}`;
  const f = activation && activation !== "linear" ? `${activation}(${sum})` : sum;
  return `h = ${f}`;
}

/**
 * mount on `container`. handlers: onModel(model) for +/- neurons, layers and activations; onFeatures(list) to
 * toggle an input (absent: the inputs are locked); onWeight(key, index, value) for a typed weight;
 * onHover({layer, unit} | null).
 */
export function mountNetworkView(container, store, handlers = {}) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.classList.add("net-links");
  const nodesBox = el("div", { class: "net-nodes" });
  const tip = el("div", { class: "net-tip", role: "status" });
  const editor = el("form", { class: "net-edit", hidden: true });
  const editInput = el("input", { type: "number", step: "any", "aria-label": "new weight value" });
  editor.append(el("label", { class: "net-edit-label" }), editInput,
    el("button", { type: "submit", text: "Set" }), el("button", { type: "button", class: "net-edit-cancel", text: "×" }));
  container.replaceChildren(svg, nodesBox, tip, editor);
  let structureKey = "";
  let neuronCanvases = new Map(); // "layer:unit" -> canvas, "in:feature" -> canvas
  let links = [];                 // [{line, key, a, b}]
  let editing = null;             // {key, index}

  const openEditor = (key, index, label, x, y) => {
    const cur = key.endsWith(".b") ? store.get().weights?.[key]?.[index[0]] : store.get().weights?.[key]?.[index[0]]?.[index[1]];
    editing = { key, index };
    editor.querySelector(".net-edit-label").textContent = label;
    editInput.value = cur === undefined ? "" : String(Number(cur.toPrecision(4)));
    editor.style.left = `${Math.max(0, Math.min(container.clientWidth - 230, x - 40))}px`;
    editor.style.top = `${Math.max(HEAD, Math.min(container.clientHeight - 40, y + 10))}px`;
    editor.hidden = false;
    editInput.focus();
    editInput.select();
  };
  editor.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = Number(editInput.value);
    if (editing && editInput.value.trim() !== "" && Number.isFinite(v)) handlers.onWeight?.(editing.key, editing.index, v);
    editor.hidden = true; editing = null;
  });
  editor.querySelector(".net-edit-cancel").addEventListener("click", () => { editor.hidden = true; editing = null; });

  const setModel = (layers) => handlers.onModel?.({ ...store.get().model, layers });
  const withoutWeights = ({ weights, ...rest }) => rest;
  const resize = (i, delta) => {
    const layers = store.get().model.layers;
    const units = Math.max(1, Math.min(64, layers[i].units + delta));
    // the layer and the next one with units lose explicit weights that no longer fit (the summary drops any left)
    setModel(layers.map((l, j) => (j === i ? { ...withoutWeights(l), units } : l)));
  };
  const addLayer = () => {
    const layers = store.get().model.layers;
    const dense = [...layers.slice(0, -1)].reverse().find((l) => l.units !== undefined) || { type: "dense", units: 4, activation: "tanh" };
    setModel([...layers.slice(0, -1), withoutWeights({ ...dense }), layers[layers.length - 1]]);
  };
  const removeLayer = () => {
    const layers = store.get().model.layers;
    if (layers.length > 1) setModel([...layers.slice(0, -2), layers[layers.length - 1]]);
  };

  const build = () => {
    const s = store.get();
    const features = s.dataset?.features || s.summary?.features || s.catalog?.default_features || [];
    const flat = s.summary?.input_shape?.length === 1 ? s.summary.input_shape[0] : features.length;
    const cols = diagramColumns(s.model, features, flat);
    // 2-D point data: every catalog feature is drawn; the used ones are linked, the others faded (click to toggle)
    const allFeatures = s.preview && flat === features.length ? Object.keys(s.catalog?.features || {}) : [];
    const inputRows = allFeatures.length ? allFeatures : cols[0].names;
    const acts = Object.keys(s.catalog?.activations || {});
    const defaultPieces = s.catalog?.layers?.maxout?.params?.find((p) => p.name === "pieces")?.default ?? 2;
    for (const col of cols) if (col.type === "maxout") col.pieces = col.pieces ?? defaultPieces;
    const width = container.clientWidth || 400;
    const height = container.clientHeight || 300;
    const key = JSON.stringify([cols, inputRows, width, height, acts.length]);
    if (key === structureKey) return false;
    structureKey = key;
    svg.setAttribute("width", width); svg.setAttribute("height", height);
    svg.replaceChildren();
    nodesBox.replaceChildren();
    neuronCanvases = new Map();
    links = [];
    const tallest = Math.max(inputRows.length, ...cols.slice(1).map((c) => Math.min(c.units || 0, MAX_NODES)));
    const avail = height - HEAD - FOOT;
    const node = Math.max(18, Math.min(52, Math.floor(avail / Math.max(1, tallest)) - 6));
    const pad = 52;   // room left of the inputs for their names ("sin(x1)"), right of the outputs
    const xs = cols.map((_, c) => pad + node / 2 + (c * (width - pad - 16 - node)) / Math.max(1, cols.length - 1));
    const column = (n) => {
      const gap = Math.min(node + 8, avail / Math.max(1, n));
      const top = HEAD + avail / 2 - ((n - 1) * gap) / 2;
      return Array.from({ length: n }, (_, j) => top + j * gap);
    };
    const inputY = column(inputRows.length);
    const used = cols[0].names;
    // positions of each column's drawn units; input column: the used features' rows
    const pos = cols.map((col, c) => (c === 0 ? used.map((n) => inputY[Math.max(0, inputRows.indexOf(n))])
      : col.kind === "pass" ? null : column(Math.min(col.units, MAX_NODES))));
    // a pass column (dropout...) carries the previous column's positions through
    for (let c = 1; c < cols.length; c++) if (!pos[c]) pos[c] = pos[c - 1];

    const names = (c) => (c === 0 ? used : Array.from({ length: pos[c].length }, (_, j) => `h${cols[c].layerIndex + 1}.${j + 1}`));
    for (let c = 1; c < cols.length; c++) {
      if (cols[c].kind === "pass") continue;
      let src = c - 1;
      while (src > 0 && cols[src].kind === "pass") src -= 1;
      const wKey = `${cols[c].layerIndex}.W`;
      const bKey = `${cols[c].layerIndex}.b`;
      pos[src].forEach((y0, a) => pos[c].forEach((y1, b) => {
        // one link = the drawn wire plus a wide transparent line on top, so a 1-px wire is easy to hover
        const ends = { x1: xs[src] + node / 2, y1: y0, x2: xs[c] - node / 2, y2: y1 };
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
        const from = src === 0 ? used[a] : `${cols[src].label} unit ${a + 1}`;
        // W is (n_in, n_out): this link is W[a][b], read from the weights shown last (the run's or the preview's)
        const P = cols[c].type === "maxout" ? cols[c].pieces : 0;   // maxout: the link stands for P pieces
        group.addEventListener("mouseenter", () => {
          const w = store.get().weights || {};
          const inputs = names(src).slice(0, pos[src].length);
          if (P) {
            const m = maxoutLink(w[wKey], a, b, P);
            tip.textContent = `${maxoutFormula(inputs, w[wKey], w[bKey], b, P)}  ·  ${from} → ${cols[c].label} unit ${b + 1}: ${wKey}[${a}][${b * P}..${b * P + P - 1}] = ${m.all.map(weightText).join(", ")}`;
            return;
          }
          const v = w[wKey]?.[a]?.[b];
          tip.textContent = `${neuronFormula(cols[c].activation, inputs, w[wKey], w[bKey], b)}  ·  ${from} → ${cols[c].label} unit ${b + 1}: ${wKey}[${a}][${b}] = ${weightText(v)}`;
        });
        group.addEventListener("click", (ev) => {
          const r = container.getBoundingClientRect();
          const j = P ? maxoutLink(store.get().weights?.[wKey], a, b, P).index : b;   // maxout: its strongest piece
          openEditor(wKey, [a, j], `${wKey}[${a}][${j}]`, ev.clientX - r.left, ev.clientY - r.top);
        });
        svg.append(group);
        links.push({ line, title, key: wKey, a, b, pieces: P });
      }));
    }
    // input rows: every feature's map; the used ones solid, the others faded; click toggles
    inputRows.forEach((name, j) => {
      const on = used.includes(name);
      // no onFeatures handler (a lesson link that hides the dataset): the maps are drawn but cannot be toggled
      const toggles = allFeatures.length > 0 && typeof handlers.onFeatures === "function";
      const box = el("button", { type: "button", class: `net-node input${on ? "" : " off"}`, "data-feature": name,
        "aria-pressed": on ? "true" : "false",
        title: toggles ? `${name}: click to ${on ? "remove" : "use"} this input` : allFeatures.length ? `${name} (fixed by this lesson)` : name,
        style: `left:${xs[0] - node / 2}px;top:${inputY[j] - node / 2}px;width:${node}px;height:${node}px` });
      if (allFeatures.length) {
        const cv = el("canvas", { width: 16, height: 16 });
        box.append(cv);
        neuronCanvases.set(`in:${name}`, cv);
        if (toggles) box.addEventListener("click", () => {
          const next = allFeatures.filter((f) => (f === name ? !on : used.includes(f)));
          if (next.length) handlers.onFeatures(next);
        });
      } else box.textContent = name;
      box.disabled = !toggles;
      nodesBox.append(box, el("span", { class: "net-in-label", style: `right:${width - (xs[0] - node / 2) + 3}px;top:${inputY[j] - 7}px`, text: name.replace("^2", "²") }));
    });
    cols.forEach((col, c) => {
      if (c === 0) return;
      if (col.kind === "pass") {
        nodesBox.append(el("div", { class: "net-pass", title: `${col.label}: ${col.text} (keeps the width)`,
          style: `left:${xs[c] - 9}px;top:${HEAD}px;height:${avail}px`, text: col.text }));
      } else {
        pos[c].forEach((y, j) => {
          const box = el("div", { class: `net-node ${col.kind}${col.type === "maxout" ? " maxout" : ""}`, "data-layer": String(col.layerIndex), "data-unit": String(j),
            style: `left:${xs[c] - node / 2}px;top:${y - node / 2}px;width:${node}px;height:${node}px` });
          if (col.kind === "output" && !s.boundary?.neurons?.some((n) => n.layer === col.layerIndex)) {
            box.style.background = col.units === 1 ? `linear-gradient(90deg,${classColor(0)},${classColor(1)})` : classColor(j);
          } else {
            const cv = el("canvas", { width: 16, height: 16, title: `${col.label} neuron ${j + 1}` });
            box.append(cv);
            neuronCanvases.set(`${col.layerIndex}:${j}`, cv);
            box.addEventListener("mouseenter", () => handlers.onHover?.({ layer: col.layerIndex, unit: j }));
            box.addEventListener("mouseleave", () => handlers.onHover?.(null));
          }
          // the bias: a small dot at the node's lower left, click to type it
          const bKey = `${col.layerIndex}.b`;
          const dot = el("button", { type: "button", class: "net-bias", "aria-label": `bias of ${col.label} unit ${j + 1}`,
            title: "bias: click to set", style: `left:${xs[c] - node / 2 - 7}px;top:${y + node / 2 - 7}px`,
            onclick: (ev) => {
              const r = container.getBoundingClientRect();
              openEditor(bKey, [j], `${bKey}[${j}]`, ev.clientX - r.left, ev.clientY - r.top);
            } });
          dot.addEventListener("mouseenter", () => { tip.textContent = `bias ${bKey}[${j}] = ${weightText(store.get().weights?.[bKey]?.[j])}`; });
          nodesBox.append(box, dot);
        });
      }
      // column header: the activation and +/- neurons (hidden layers)
      const left = Math.max(0, Math.min(width - 96, xs[c] - 48));
      if (col.kind === "hidden") {
        const layers = s.model.layers;
        let sel;
        if (col.type === "maxout") {   // no activation: each unit is the max of its pieces
          sel = el("span", { class: "net-act net-maxout", "data-layer": String(col.layerIndex),
            title: `each unit outputs the max of ${col.pieces} linear pieces`, text: `max of ${col.pieces}` });
        } else {
          sel = el("select", { class: "net-act", "aria-label": `${col.label} activation`, "data-layer": String(col.layerIndex) },
            acts.map((a) => el("option", { value: a, text: a, selected: a === col.activation })));
          sel.addEventListener("change", () => setModel(layers.map((l, j) => (j === col.layerIndex ? { ...l, activation: sel.value } : l))));
        }
        nodesBox.append(el("div", { class: "net-head", style: `left:${left}px;top:0` },
          el("div", { class: "net-pm" },
            el("button", { type: "button", class: "icon", "aria-label": `remove a neuron from ${col.label}`, disabled: col.units <= 1,
              onclick: () => resize(col.layerIndex, -1), text: "−" }),
            el("span", { class: "net-units", text: String(col.units) }),
            el("button", { type: "button", class: "icon", "aria-label": `add a neuron to ${col.label}`, disabled: col.units >= 64,
              onclick: () => resize(col.layerIndex, 1), text: "+" })),
          sel));
      } else if (col.kind === "output") {
        nodesBox.append(el("div", { class: "net-head out", style: `left:${left}px;top:16px`, text: col.activation || "linear" }));
      }
      const more = col.kind === "pass" ? 0 : col.units - pos[c].length;
      // a frozen layer ("trainable": false) says so under its column: no step changes its weights
      const label = `${col.label}${more > 0 ? ` (+${more})` : ""}${col.frozen ? " · frozen" : ""}`;
      nodesBox.append(el("div", { class: `net-col-label${col.frozen ? " frozen" : ""}`,
        style: `left:${left}px;top:${height - FOOT + 2}px`, "data-layer": String(col.layerIndex),
        title: more > 0 ? `${pos[c].length} of ${col.units} neurons shown` : undefined, text: label }));
    });
    nodesBox.append(el("div", { class: "net-col-label", style: `left:0;top:${height - FOOT + 2}px`, text: "input" }));
    // add / remove hidden layers, on the diagram itself
    const nHidden = s.model.layers.length - 1;
    nodesBox.append(el("div", { class: "net-layers", style: `width:${Math.max(60, xs[1] - 52)}px` },
      el("span", { text: "hidden layers" }),
      el("div", { class: "net-pm" },
        el("button", { type: "button", class: "icon", "aria-label": "remove the last hidden layer", disabled: nHidden < 1, onclick: removeLayer, text: "−" }),
        el("span", { class: "net-units", text: String(nHidden) }),
        el("button", { type: "button", class: "icon", "aria-label": "add a hidden layer", disabled: nHidden >= 8, onclick: addLayer, text: "+" }))));
    return true;
  };

  const paintMap = (cv, bytes, offset, r, scale = 0.9) => {
    if (cv.width !== r) { cv.width = r; cv.height = r; }
    const img = new ImageData(r, r);
    for (let i = 0; i < r * r; i++) {
      const [R, G, B] = divergingRgb((bytes[offset + i] / 127.5 - 1) * scale);
      img.data[i * 4] = R; img.data[i * 4 + 1] = G; img.data[i * 4 + 2] = B; img.data[i * 4 + 3] = 255;
    }
    cv.getContext("2d").putImageData(img, 0, 0);
  };

  const paintNeurons = () => {
    const s = store.get();
    for (const n of s.boundary?.neurons || []) {
      const r = n.resolution;
      const bytes = base64ToBytes(n.data); // (units, r, r)
      for (let u = 0; u < Math.min(n.units, MAX_NODES); u++) {
        const cv = neuronCanvases.get(`${n.layer}:${u}`);
        if (cv) paintMap(cv, bytes, u * r * r, r);
      }
    }
    for (const f of s.features || []) {
      const cv = neuronCanvases.get(`in:${f.feature}`);
      if (cv) paintMap(cv, base64ToBytes(f.data), 0, f.resolution);
    }
  };

  const paintLinks = () => {
    const weights = store.get().weights || {};
    for (const l of links) {
      const v = l.pieces ? maxoutLink(weights[l.key], l.a, l.b, l.pieces).value : weights[l.key]?.[l.a]?.[l.b];
      if (v === undefined) {
        l.line.setAttribute("stroke", "#ccc"); l.line.setAttribute("stroke-width", "1");
        l.title.textContent = "w = ?";
        continue;
      }
      // the legend's scale: -1 .. 1 (beyond is full colour, thicker)
      const t = Math.max(-1, Math.min(1, v));
      const [r, g, b] = divergingRgb(Math.sign(t) * (0.3 + 0.7 * Math.abs(t)));
      l.line.setAttribute("stroke", `rgb(${r | 0},${g | 0},${b | 0})`);
      l.line.setAttribute("stroke-width", (0.6 + 3.4 * Math.min(1, Math.abs(v) / 2)).toFixed(2));
      l.title.textContent = `w = ${weightText(v)} (click to set)`;
    }
  };

  const draw = () => {
    if (store.get().model?.type === "knn") return;   // no neurons: the k-NN panel stands in (knn-view.js)
    const rebuilt = build();
    paintNeurons();
    paintLinks();
    container.dataset.links = String(links.length);
    container.dataset.nodeSize = String(container.querySelector(".net-node:not(.input)")?.offsetWidth || 0);
    if (rebuilt) tip.textContent = "hover a link: weight and formula · click it to set";
  };
  const request = frameScheduler(draw);
  store.subscribe((_, patch) => {
    if (["model", "dataset", "summary", "boundary", "weights", "features", "preview", "catalog"].some((k) => k in patch)) request();
  });
  watchSize(container, request);
  request();
}
