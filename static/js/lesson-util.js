// small helpers shared by the lesson pages: number text, SVG elements, a step-through control.
import { el } from "./draw-util.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/** an SVG element; attrs as in el(), `text` sets textContent */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.setAttribute("class", v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** a number with `dp` decimals, trailing zeros kept (slides print 0.593270), whole numbers bare unless told; "−" for minus */
export function num(v, dp = 4, wholeAsInt = true) {
  if (v === null || v === undefined) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  const a = Math.abs(v);
  let text;
  if (a !== 0 && (a < 10 ** -dp || a >= 1e6)) text = v.toExponential(2);
  else if (Number.isInteger(v) && wholeAsInt) text = String(v);
  else text = v.toFixed(dp);
  return text.replace("-", "−");
}

/** a scalar, vector or matrix as short text: 3, [0.22, 0.26], [[1, 2], [3, 4]]; big arrays by shape */
export function value(v, dp = 3) {
  if (!Array.isArray(v)) return num(v, dp);
  const size = v.flat(Infinity).length;
  if (size > 6) return Array.isArray(v[0]) ? `${v.length}×${v[0].length} matrix` : `${v.length}-vector`;
  return `[${v.map((x) => value(x, dp)).join(", ")}]`;
}

/**
 * A step-through control: ⟲ start, ◀ back, step ▶, end ⏭ and a label. mount(container, onChange) returns
 * {set(total, labelFn, keep), get step}; onChange(step) redraws. Arrow keys step while the page has focus.
 */
export function mountStepper(container, onChange) {
  let step = 0, total = 0, labelFn = () => "";
  const label = el("span", { class: "stepper-label", role: "status" });
  const go = (s) => { step = Math.max(0, Math.min(total, s)); render(); onChange(step); };
  const buttons = {
    start: el("button", { type: "button", title: "back to the start", onclick: () => go(0) }, "⟲ start"),
    back: el("button", { type: "button", title: "one step back (←)", onclick: () => go(step - 1) }, "◀ back"),
    next: el("button", { type: "button", class: "primary", title: "one step (→)", onclick: () => go(step + 1) }, "step ▶"),
    end: el("button", { type: "button", title: "every step", onclick: () => go(total) }, "all »"),
  };
  Object.entries(buttons).forEach(([k, b]) => { b.dataset.step = k; });
  container.replaceChildren(...Object.values(buttons), label);
  const render = () => {
    buttons.start.disabled = buttons.back.disabled = step === 0;
    buttons.next.disabled = buttons.end.disabled = step >= total;
    label.textContent = labelFn(step);
    container.dataset.at = String(step);
  };
  container.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") { e.preventDefault(); go(step + 1); }
    if (e.key === "ArrowLeft") { e.preventDefault(); go(step - 1); }
  });
  return {
    /** a new sequence of `n` steps; keep the current step when `keep` (an edit recomputes in place) */
    set(n, fn, keep = false) {
      total = n; labelFn = fn;
      step = keep ? Math.min(step, n) : 0;
      render();
      onChange(step);
    },
    get step() { return step; },
  };
}
