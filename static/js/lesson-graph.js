// the computation-graph view: lays out POST /api/lessons/expression's nodes and draws them at a step.
// forward steps compute one operation each (values on the edges); backward steps take the operations in
// reverse, each showing its upstream gradient, its local gradient per input and the product it passes on.
import { el } from "./draw-util.js";
import { num, svg, value } from "./lesson-util.js";

const MIN_COL = 96;    // px per column; narrower screens scroll the graph sideways
const FIT_SCALE = 0.75;   // the smallest scale a graph is shrunk to before the card scrolls instead
const ROW = 74;        // px per leaf row
const R = 22;          // operation circle radius
const NAMES = { pow: "power", neg: "negate", matmul: "matrix product", div: "divide", mul: "multiply",
  add: "add", sub: "subtract", sum: "sum", mean: "mean", max: "max" };

/** operations in evaluation order: the forward steps; the backward steps are the same in reverse */
export const operations = (result) => result.nodes.filter((n) => n.op !== "input" && n.op !== "const");
export const stepCount = (result) => 2 * operations(result).length;

export function stepLabel(result, step) {
  const n = operations(result).length;
  if (step === 0) return `${n} operations: step forward to compute f`;
  if (step <= n) return `forward ${step} of ${n}`;
  return `backward ${step - n} of ${n}`;
}

/** column (longest path from the inputs; a constant sits just left of its user) and row of every node */
function layout(nodes) {
  const col = new Map(), users = new Map();
  for (const n of nodes) {
    col.set(n.id, n.inputs.length ? 1 + Math.max(...n.inputs.map((i) => col.get(i))) : 0);
    n.inputs.forEach((i) => { if (!users.has(i)) users.set(i, n.id); });
  }
  for (const n of nodes) if (n.op === "const" && users.has(n.id)) col.set(n.id, col.get(users.get(n.id)) - 1);
  // leaves get rows in the order a walk from the output meets them; an operation sits at its inputs' mean row
  const row = new Map();
  let next = 0;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const visit = (id) => {
    if (row.has(id)) return row.get(id);
    const n = byId.get(id);
    if (n.op === "const") return null;
    const rows = n.inputs.map(visit).filter((r) => r !== null);
    const r = n.inputs.length ? (rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : next++) : next++;
    row.set(id, r);
    return r;
  };
  visit(nodes[nodes.length - 1].id);
  for (const n of nodes) if (!row.has(n.id) && n.op !== "const") row.set(n.id, next++);   // a variable f does not use
  for (const n of nodes) if (n.op === "const") row.set(n.id, (row.get(users.get(n.id)) ?? 0) - 0.75);
  const top = Math.min(0, ...row.values());
  for (const [id, r] of row) row.set(id, r - top);
  return { col, row, cols: Math.max(...col.values()) + 2, rows: Math.max(next - top, 1) };
}

/** what is visible at `step`: computed operations, processed (backward) operations, complete gradients */
function visibility(result, step) {
  const ops = operations(result);
  const f = ops.length;
  const computed = new Set(ops.slice(0, Math.min(step, f)).map((n) => n.id));
  const processed = new Set(step > f ? ops.slice(f - (step - f)).map((n) => n.id) : []);
  const users = new Map();
  for (const n of result.nodes) n.inputs.forEach((i) => users.set(i, [...(users.get(i) || []), n.id]));
  const out = result.nodes[result.nodes.length - 1].id;
  // a node's gradient is complete once every user has passed its part back
  const gradDone = (id) => step > f && (id === out || (users.get(id) || []).every((u) => processed.has(u)));
  const current = step === 0 ? null : step <= f ? ops[step - 1] : ops[f - (step - f)];
  return { computed, processed, gradDone, current, forward: step <= f };
}

export function drawGraph(svgEl, result, step) {
  const { nodes } = result;
  const { col, row, cols, rows } = layout(nodes);
  // room left of the inputs for their value and gradient text
  const left = 40 + 9 * Math.max(4, ...nodes.filter((n) => n.op === "input")
    .flatMap((n) => [...rowsText(n.value), ...rowsText(n.grad)].map((t) => t.length)));
  // inputs at `left`; the first operations a wider gap further (their wires carry the inputs' gradients)
  const depth = cols - 2, gap0 = 110, tail = 130;
  const width = Math.max(svgEl.parentElement.clientWidth, left + gap0 + Math.max(depth - 1, 0) * MIN_COL + tail);
  const colW = depth > 1 ? Math.min(220, (width - left - gap0 - tail) / (depth - 1)) : 0, height = rows * ROW + 30;
  const shift = (width - (left + gap0 + colW * Math.max(depth - 1, 0) + tail)) / 2;   // a short graph sits centred
  const X = (id) => shift + (col.get(id) === 0 ? left : left + gap0 + colW * (col.get(id) - 1));
  const Y = (id) => ROW * (row.get(id) + 0.5) + 10;
  const vis = visibility(result, step);
  const known = (n) => n.op === "input" || n.op === "const" || vis.computed.has(n.id);
  const edges = [], labels = [], shapes = [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const users = new Map();
  for (const n of nodes) n.inputs.forEach((i) => users.set(i, (users.get(i) || 0) + 1));
  for (const n of nodes) {
    n.inputs.forEach((i, k) => {
      const src = byId.get(i);
      const x1 = X(i) + (src.inputs.length ? R : 26), y1 = Y(i), x2 = X(n.id) - R, y2 = Y(n.id);
      const hot = vis.current && vis.current.id === n.id;
      edges.push(svg("line", { x1, y1, x2, y2, class: `edge${hot ? " hot" : ""}` }));
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      // an input's or constant's value is written at the node itself
      if (known(src) && src.inputs.length) labels.push(svg("text", { x: mx, y: my - 7, class: "v-value", text: edgeText(src.value) }));
      // the part passed back along each wire; an input with one user shows its gradient at the input itself
      const shared = (users.get(i) || 0) > 1;
      if (vis.processed.has(n.id) && src.op !== "const" && (src.inputs.length || shared)) {
        labels.push(svg("text", { x: mx, y: my + 17, class: "v-grad", text: edgeText(n.passed[k]) }));
      }
    });
  }
  for (const n of nodes) shapes.push(nodeShape(n, X(n.id), Y(n.id), vis));
  const outId = nodes[nodes.length - 1].id, ox = X(outId) + R, oy = Y(outId), ex = X(outId) + tail - 36;
  edges.push(svg("line", { x1: ox, y1: oy, x2: ex, y2: oy, class: "edge" }));
  const outNode = byId.get(outId);
  labels.push(svg("text", { x: ex + 4, y: oy + 5, class: "v-name", "text-anchor": "start", text: "f" }));
  if (known(outNode)) labels.push(svg("text", { x: (ox + ex) / 2, y: oy - 7, class: "v-value", text: edgeText(outNode.value) }));
  if (vis.gradDone(outId)) labels.push(svg("text", { x: (ox + ex) / 2, y: oy + 17, class: "v-grad", text: edgeText(outNode.grad) }));
  // a graph a little wider than its card (a phone) is scaled to fit, so the output f stays in sight; a much
  // wider one keeps its size (labels stay legible) and the card scrolls sideways
  const avail = svgEl.parentElement.clientWidth, scale = avail && width > avail && avail / width >= FIT_SCALE ? avail / width : 1;
  svgEl.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svgEl.setAttribute("width", Math.floor(width * scale));
  svgEl.setAttribute("height", Math.ceil(height * scale));
  svgEl.replaceChildren(svg("g", {}, edges), svg("g", {}, shapes), svg("g", {}, labels));
  svgEl.dataset.step = String(step);
}

/** a value as lines: a small matrix row by row, anything else as edgeText */
function rowsText(v) {
  if (Array.isArray(v) && Array.isArray(v[0]) && v.length <= 3 && v[0].length <= 3) return v.map((r) => value(r, 3));
  return [edgeText(v)];
}

function edgeText(v) {
  const text = value(v, 3);
  return text.length > 16 ? (Array.isArray(v[0]) ? `${v.length}×${v[0].length}` : `${v.length}-vector`) : text;
}

function nodeShape(n, x, y, vis) {
  const hot = vis.current && vis.current.id === n.id;
  const cls = `node ${n.op === "input" ? "input" : n.op === "const" ? "const" : "op"}${hot ? " hot" : ""}`;
  const g = svg("g", { class: cls, dataset: { id: n.id, op: n.op } });
  if (n.op === "input" || n.op === "const") {
    const w = 48;
    g.append(svg("rect", { x: x - w / 2, y: y - 17, width: w + 4, height: 34, rx: 6 }),
      svg("text", { x: x + 2, y: y + 6, class: "v-name", text: n.op === "input" ? n.label : value(n.value, 2) }));
  } else {
    g.append(svg("circle", { cx: x, cy: y, r: R }),
      svg("text", { x, y: y + 6, class: "v-op", text: opText(n) }));
  }
  if (n.op === "input") {   // value above, gradient below, a small matrix one row per line
    const vals = rowsText(n.value), grads = rowsText(n.grad);
    vals.forEach((t, k) => g.append(svg("text", { x: x - 30, y: y - 2 - 17 * (vals.length - 1 - k), class: "v-value",
      "text-anchor": "end", text: t })));
    if (vis.gradDone(n.id)) grads.forEach((t, k) => g.append(svg("text", { x: x - 30, y: y + 17 + 17 * k,
      class: "v-grad", "text-anchor": "end", text: t })));
  }
  g.append(svg("title", { text: `${n.label}${n.rule ? `\n${n.rule}` : ""}` }));
  return g;
}

function opText(n) {
  if (n.op === "pow") return `**${num(n.power, 2)}`;
  if (n.op === "sigmoid") return "σ";
  if (n.op === "sum") return "Σ";
  return n.symbol && n.symbol.length <= 2 ? n.symbol : n.op;
}

/** the explanation of the current step, in the lecture's words, numbers plugged in */
export function explainStep(container, result, step) {
  const vis = visibility(result, step);
  const n = vis.current;
  const byId = new Map(result.nodes.map((m) => [m.id, m]));
  if (!n) {
    const vars = result.nodes.filter((m) => m.op === "input").map((m) => `${m.label} = ${value(m.value)}`);
    container.replaceChildren(el("h3", { text: "inputs" }), el("p", { class: "big-line", text: vars.join(",  ") }),
      el("p", { class: "muted", text: "step ▶ computes the graph one operation at a time, left to right." }));
    return;
  }
  const ins = n.inputs.map((i) => byId.get(i));
  if (vis.forward) {
    container.replaceChildren(el("h3", { text: `forward: ${NAMES[n.op] || n.op}` }),
      el("p", { class: "mono", text: n.label }),
      el("p", { class: "big-line" }, el("span", { class: "k-value", text: forwardText(n, ins) })));
    return;
  }
  const lines = ins.map((src, k) => {
    const local = n.local && n.local[k] !== null && n.local[k] !== undefined
      ? `${value(n.local[k], 3)} × ${value(n.grad, 3)} = ` : "";
    return el("li", {}, el("span", { class: "muted", text: `to ${src.label}: ` }),
      el("span", { class: "k-grad", text: `${local}${value(n.passed[k], 3)}` }));
  });
  container.replaceChildren(el("h3", { text: `backward: ${NAMES[n.op] || n.op}` }),
    el("p", { class: "mono", text: n.label }),
    el("p", { class: "big-line" }, "upstream ∂f/∂out = ", el("span", { class: "k-grad", text: value(n.grad, 4) })),
    el("p", { class: "rule", text: `local gradient: ${n.rule}` }),
    el("p", { class: "muted", text: "passed on = local × upstream:" }),
    el("ul", { class: "passed" }, lines),
    ...(step === stepCount(result) ? [el("h3", { text: "gradients" }), el("ul", { class: "passed" },
      Object.entries(result.grads).map(([k, g]) => el("li", { class: "k-grad", text: `∂f/∂${k} = ${value(g, 3)}` })))] : []));
}

function forwardText(n, ins) {
  const v = ins.map((m) => value(m.value, 3));
  const out = value(n.value, 4);
  if (n.inputs.length === 2 && n.op !== "max") return `${v[0]} ${n.symbol} ${v[1]} = ${out}`;
  if (n.op === "pow") return `${v[0]} ** ${num(n.power, 2)} = ${out}`;
  if (n.op === "neg") return `−(${v[0]}) = ${out}`;
  return `${n.op}(${v.join(", ")}) = ${out}`;
}
