// the network view: draws POST /api/lessons/backprop's layers at a step (forward layer by layer, then per
// layer from the output: ∂E/∂out, ∂out/∂net and δ, each weight's gradient, and finally the updated weights).
// Every number is the endpoint's; this module only places them and writes the formulas with them plugged in.
import { el } from "./draw-util.js";
import { num as plain, svg } from "./lesson-util.js";

const num = (v, dp) => plain(v, dp, false);   // a network's numbers always show their decimals: 1.00, 0.50

const R = 30;                 // neuron radius
const ROW = 190;              // px between neurons of a column
const MIN_WIDTH = 820;        // narrower screens scroll sideways (wire labels need the room)
const HIDDEN = ["h", "g", "k", "m", "p", "q", "r"];
const DP = 6;                 // decimals in formulas (the lecture prints 0.138499 · 0.593270 = 0.082167)

/** the step sequence: forward per layer, then ∂E/∂out, δ and weight gradients per layer from the last, then the update */
export function networkSteps(result) {
  const L = result.layers.length;
  const steps = result.layers.map((_, l) => ({ kind: "forward", l }));
  for (let l = L - 1; l >= 0; l--) steps.push({ kind: "dout", l }, { kind: "delta", l }, { kind: "wgrad", l });
  steps.push({ kind: "update" });
  return steps;
}

const STEP_TEXT = { forward: "forward", dout: "∂E/∂out", delta: "δ = ∂E/∂out · ∂out/∂net", wgrad: "weight gradients", update: "SGD update" };

export function networkStepLabel(result, step) {
  const steps = networkSteps(result);
  if (step === 0) return `${steps.length} steps: forward, backward, update`;
  const s = steps[step - 1];
  return `${step} of ${steps.length}: ${STEP_TEXT[s.kind]}${s.l !== undefined ? ` (${layerName(result, s.l)})` : ""}`;
}

/** names as the lectures write them: inputs i1.., hidden h1.., outputs o1..; weights w1.. numbered per target */
export function names(result) {
  const L = result.layers.length;
  const unit = (l, j) => (l === L - 1 ? `o${j + 1}` : `${L === 2 ? "h" : HIDDEN[l % HIDDEN.length]}${j + 1}`);
  const src = (l, i) => (l === 0 ? `i${i + 1}` : unit(l - 1, i));
  let c = 0;
  const weights = result.layers.map((layer) => layer.W[0].map(() => []));
  result.layers.forEach((layer, l) => {
    for (let j = 0; j < layer.W[0].length; j++) for (let i = 0; i < layer.W.length; i++) weights[l][j][i] = `w${++c}`;
  });
  return { unit, src, weight: (l, i, j) => weights[l][j][i] };
}

function layerName(result, l) {
  return l === result.layers.length - 1 ? "output layer" : `hidden layer ${l + 1}`;
}

/** what is shown at `step` */
function seen(result, step) {
  const done = networkSteps(result).slice(0, step);
  const has = (kind, l) => done.some((s) => s.kind === kind && (l === undefined || s.l === l));
  return { has, current: done[done.length - 1] || null };
}

/**
 * drawNetwork(svgEl, ctx): ctx = {result, step, row, targets, lr, loss, onPick(item)}; item = {kind: "weight",
 * l, i, j} | {kind: "neuron", l, j} | {kind: "bias", l, j}.
 */
export function drawNetwork(svgEl, ctx) {
  const { result, step, row } = ctx;
  const L = result.layers.length, nm = names(result), vis = seen(result, step);
  const sizes = [result.layers[0].W.length, ...result.layers.map((layer) => layer.W[0].length)];
  const width = Math.max(svgEl.parentElement.clientWidth, MIN_WIDTH);
  const most = Math.max(...sizes), top = 78;                 // above the first row: net / out and E
  const height = top + (most - 1) * ROW + 112;               // below the last row: b, ∂E/∂out, ∂out/∂net, δ
  const left = 70, right = 175, colW = (width - left - right) / L;
  const P = (c, j) => [left + c * colW, top + (j + (most - sizes[c]) / 2) * ROW];
  const wires = [], labels = [], nodes = [];
  result.layers.forEach((layer, l) => {
    const nOut = layer.W[0].length;
    layer.W.forEach((wrow, i) => wrow.forEach((w, j) => {
      const [x1, y1] = P(l, i), [x2, y2] = P(l + 1, j);
      const item = { kind: "weight", l, i, j };
      const picked = sameItem(ctx.picked, item);
      const t = 0.2 + (nOut > 1 ? 0.5 * j / (nOut - 1) : 0.25);   // labels of one source's wires never stack
      const lx = x1 + R + (x2 - x1 - 2 * R) * t, ly = y1 + (y2 - y1) * ((x2 - x1 - 2 * R) * t + R) / (x2 - x1);
      const g = svg("g", { class: `wire${picked ? " picked" : ""}`, tabindex: 0,
        dataset: { weight: nm.weight(l, i, j), pick: pickKey(item) },
        onmouseenter: () => ctx.onPick(item), onfocus: () => ctx.onPick(item), onclick: () => ctx.onPick(item) });
      g.append(svg("line", { x1: x1 + R, y1, x2: x2 - R, y2, class: "edge" }),
        svg("line", { x1: x1 + R, y1, x2: x2 - R, y2, class: "hit" }));
      // a stacked label on the wire: the weight, then its gradient, then its new value
      const lab = svg("text", { x: lx, y: ly - 2, class: "w-label" });
      lab.append(svg("tspan", { class: "w-name", text: `${nm.weight(l, i, j)} ` }),
        svg("tspan", { class: "w-value", text: num(w, 2) }));
      g.append(lab);
      if (vis.has("wgrad", l)) {
        g.append(svg("text", { x: lx, y: ly + 15, class: "w-label v-grad", dataset: { grad: nm.weight(l, i, j) },
          text: `∂ ${num(layer.dL_dW[i][j], DP)}` }));
      }
      if (vis.has("update")) {
        g.append(svg("text", { x: lx, y: ly + 32, class: "w-label k-new", dataset: { after: nm.weight(l, i, j) },
          text: `→ ${num(layer.W_after[i][j], DP)}` }));
      }
      (picked ? labels : wires).push(g);
    }));
  });
  // inputs
  result.layers[0].input[row].forEach((v, i) => {
    const [x, y] = P(0, i);
    nodes.push(svg("g", { class: "neuron input" }, svg("circle", { cx: x, cy: y, r: R }),
      svg("text", { x, y: y + 6, class: "n-name", text: nm.src(0, i) }),
      svg("text", { x, y: y + R + 22, class: "n-line k-value", text: num(v, 4) })));
  });
  result.layers.forEach((layer, l) => layer.z[row].forEach((_, j) => nodes.push(neuron(ctx, l, j, P(l + 1, j), vis, nm))));
  // targets and the loss, right of the outputs
  const last = result.layers[L - 1];
  last.a[row].forEach((_, j) => {
    const [x, y] = P(L, j);
    if (ctx.targets[row] && ctx.targets[row][j] !== undefined) {
      labels.push(svg("text", { x: x + R + 12, y: y + 6, class: "n-line target", "text-anchor": "start",
        text: `target ${num(ctx.targets[row][j], 2)}` }));
    }
  });
  if (vis.has("dout", L - 1)) {   // under the first output's target, clear of its b / δ lines: E of the batch
    const [x, y] = P(L, 0);
    labels.push(svg("text", { x: x + R + 12, y: y + 30, class: "n-line loss", "text-anchor": "start", text: `E = ${num(result.loss, 6)}` }));
  }
  svgEl.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svgEl.setAttribute("width", width);
  svgEl.setAttribute("height", height);
  svgEl.replaceChildren(svg("g", {}, wires), svg("g", {}, nodes), svg("g", {}, labels));
  svgEl.dataset.step = String(step);
}

export function sameItem(a, b) {
  return Boolean(a && b && a.kind === b.kind && a.l === b.l && a.i === b.i && a.j === b.j);
}

const pickKey = (it) => (it.kind === "weight" ? `weight-${it.l}-${it.i}-${it.j}` : `neuron-${it.l}-${it.j}`);

/** mark the picked weight / neuron without redrawing (a redraw under the pointer would re-fire mouseenter) */
export function markPicked(svgEl, item) {
  svgEl.querySelectorAll(".picked").forEach((n) => n.classList.remove("picked"));
  const node = item && svgEl.querySelector(`[data-pick="${pickKey(item)}"]`);
  if (!node) return;
  node.classList.add("picked");
  if (item.kind === "weight") svgEl.lastElementChild.append(node);   // on top of the other wires' labels
}

function neuron(ctx, l, j, [x, y], vis, nm) {
  const layer = ctx.result.layers[l], row = ctx.row;
  const item = { kind: "neuron", l, j };
  const g = svg("g", { class: `neuron${sameItem(ctx.picked, item) ? " picked" : ""}`, tabindex: 0,
    dataset: { unit: nm.unit(l, j), pick: pickKey(item) }, onmouseenter: () => ctx.onPick(item), onfocus: () => ctx.onPick(item),
    onclick: () => ctx.onPick(item) });
  g.append(svg("circle", { cx: x, cy: y, r: R }), svg("text", { x, y: y + 6, class: "n-name", text: nm.unit(l, j) }));
  const lines = [];
  if (vis.has("forward", l)) {
    lines.push(["k-value", `net ${num(layer.z[row][j], 4)}`], ["k-value", `out ${num(layer.a[row][j], 4)}`]);
  } else {
    lines.push(["", ""], ["", ""]);
  }
  if (layer.b) {
    lines.push(["n-bias", vis.has("update") ? `b ${num(layer.b[j], 2)} → ${num(layer.b_after[j], 4)}` : `b ${num(layer.b[j], 2)}`]);
  }
  if (vis.has("dout", l)) lines.push(["k-grad", `∂E/∂out ${num(layer.dL_da[row][j], 4)}`]);
  if (vis.has("delta", l)) {
    if (layer.da_dz) lines.push(["k-grad", `∂out/∂net ${num(layer.da_dz[row][j], 4)}`]);
    lines.push(["k-grad", `δ ${num(layer.dL_dz[row][j], 4)}`]);
  }
  // above the neuron: net/out; below it: the backward numbers (never over a wire's label)
  lines.slice(0, 2).forEach(([cls, text], k) => g.append(svg("text", { x, y: y - R - 28 + 17 * k, class: `n-line ${cls}`, text })));
  lines.slice(2).forEach(([cls, text], k) => g.append(svg("text", { x, y: y + R + 18 + 17 * k, class: `n-line ${cls}`, text })));
  return g;
}

/** the formula of a picked weight / neuron with the endpoint's numbers plugged in (no arithmetic here) */
export function formulaLines(ctx, item) {
  if (!item) return [];
  const { result, row, lr } = ctx;
  const nm = names(result), L = result.layers.length, n = result.layers[0].input.length;
  const layer = result.layers[item.l];
  const f = (v) => num(v, DP);
  const vis = seen(result, ctx.step);
  if (item.kind === "weight") {
    const { l, i, j } = item, w = nm.weight(l, i, j), to = nm.unit(l, j), from = nm.src(l, i);
    const out = [[`${w} = ${f(layer.W[i][j])}`, `${from} → ${to}`]];
    if (vis.has("wgrad", l)) {
      out.push(n === 1
        ? [`∂E/∂${w} = δ_${to} · out_${from} = ${f(layer.dL_dz[0][j])} · ${f(layer.input[0][i])} = ${f(layer.dL_dW[i][j])}`, "k-grad"]
        : [`∂E/∂${w} = Σₙ δ_${to} · out_${from} (${n} samples) = ${f(layer.dL_dW[i][j])}`, "k-grad"]);
    }
    if (vis.has("update")) {
      out.push([`${w}⁺ = ${w} − η · ∂E/∂${w} = ${f(layer.W[i][j])} − ${num(lr, 4)} · ${f(layer.dL_dW[i][j])} = ${f(layer.W_after[i][j])}`, "k-new"]);
    }
    return out;
  }
  const { l, j } = item, u = nm.unit(l, j);
  const out = [];
  if (vis.has("forward", l)) {
    const terms = layer.W.map((wrow, i) => `${nm.weight(l, i, j)} · out_${nm.src(l, i)}`).join(" + ");
    const nums = layer.W.map((wrow, i) => `${num(wrow[j], 4)} · ${num(layer.input[row][i], 4)}`).join(" + ");
    const bias = layer.b ? [` + b`, ` + ${num(layer.b[j], 4)}`] : ["", ""];
    out.push([`net_${u} = ${terms}${bias[0]} = ${nums}${bias[1]} = ${f(layer.z[row][j])}`, "k-value"]);
    out.push([`out_${u} = ${layer.activation}(net_${u}) = ${f(layer.a[row][j])}`, "k-value"]);
  }
  if (vis.has("dout", l)) {
    if (l === L - 1) {
      const t = ctx.targets[row] ? ctx.targets[row][j] : undefined;
      out.push([ctx.loss === "half_squared_error" && n === 1 && t !== undefined
        ? `∂E/∂out_${u} = out_${u} − target_${u} = ${f(layer.a[row][j])} − ${num(t, 4)} = ${f(layer.dL_da[row][j])}`
        : `∂E/∂out_${u} = ${f(layer.dL_da[row][j])} (the ${ctx.loss} gradient)`, "k-grad"]);
    } else {
      const above = result.layers[l + 1];
      const terms = above.W[j].map((_, k) => `δ_${nm.unit(l + 1, k)} · ${nm.weight(l + 1, j, k)}`).join(" + ");
      const nums = above.W[j].map((w, k) => `${num(above.dL_dz[row][k], DP)} · ${num(w, 4)}`).join(" + ");
      out.push([`∂E/∂out_${u} = ${terms} = ${nums} = ${f(layer.dL_da[row][j])}`, "k-grad"]);
    }
  }
  if (vis.has("delta", l)) {
    out.push(layer.da_dz
      ? [`δ_${u} = ∂E/∂out_${u} · ∂out_${u}/∂net_${u} = ${f(layer.dL_da[row][j])} · ${f(layer.da_dz[row][j])} = ${f(layer.dL_dz[row][j])}`, "k-grad"]
      : [`δ_${u} = ${f(layer.dL_dz[row][j])}`, "k-grad"]);
  }
  return out;
}

/** the explanation panel: what this step did, then the picked item's formulas */
export function explainNetwork(container, ctx) {
  const vis = seen(ctx.result, ctx.step);
  const s = vis.current;
  const head = !s ? "inputs and starting weights" : s.kind === "update" ? "SGD update: w⁺ = w − η · ∂E/∂w"
    : `${STEP_TEXT[s.kind]} · ${layerName(ctx.result, s.l)}`;
  const lines = formulaLines(ctx, ctx.picked);
  const pickedName = ctx.picked ? pickedLabel(ctx) : "";
  const note = s && s.kind === "update"
    ? el("p", { class: "muted", text: "The biases are stepped too (b⁺ = b − η · ∂E/∂b, ∂E/∂b = Σ δ); the classic worked example keeps "
      + "them fixed, which changes none of its weights' numbers." }) : null;
  container.replaceChildren(el("h3", { text: head }), ...(note ? [note] : []),
    el("p", { class: "muted", text: ctx.picked ? pickedName : "hover or tap a weight or a neuron" }),
    el("ul", { class: "formulas" }, lines.map(([text, cls]) => el("li", { class: cls || "" , text }))));
}

function pickedLabel(ctx) {
  const nm = names(ctx.result), it = ctx.picked;
  return it.kind === "weight" ? `weight ${nm.weight(it.l, it.i, it.j)}` : `neuron ${nm.unit(it.l, it.j)}`;
}
