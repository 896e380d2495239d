// /lessons/backprop: wires the three parts (computation graph, network, cross-entropy vs squared error) to
// the lesson endpoints. The engine computes every number; these modules only ask, lay out and draw.
import * as api from "./api.js";
import { mountTokenBox } from "./auth.js";
import { el, frameScheduler } from "./draw-util.js";
import { drawGraph, explainStep, stepCount, stepLabel } from "./lesson-graph.js";
import { drawNetwork, explainNetwork, markPicked, names, networkStepLabel, networkSteps, sameItem } from "./lesson-network.js";
import { mountStepper, num } from "./lesson-util.js";
import { mountSaturation } from "./lesson-saturation.js";

const $ = (id) => document.getElementById(id);
const clone = (v) => JSON.parse(JSON.stringify(v));

// ---- tabs
function mountTabs(onShow) {
  const tabs = [...document.querySelectorAll(".lesson-tabs [role=tab]")];
  const show = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    onShow(tab.id.replace("tab-", ""));
  };
  tabs.forEach((t) => t.addEventListener("click", () => show(t)));
}

// ---- part 1: the computation graph of an expression
function mountExpressions(presets, functions) {
  const sel = $("expr-preset"), text = $("expr-text"), box = $("expr-values");
  let values = {}, result = null, seq = 0, timer = null;
  presets.forEach((p, i) => sel.append(el("option", { value: i, text: `${p.title}` })));
  sel.append(el("option", { value: "", text: "your own…" }));
  const stepper = mountStepper($("graph-stepper"), (step) => draw(step));
  const draw = (step) => {
    if (!result) return;
    drawGraph($("graph"), result, step);
    explainStep($("graph-explain"), result, step);
  };

  // the variables are the names the expression uses (not a function call, not a number's exponent)
  const namesIn = (expr) => [...new Set((expr.match(/(?<![\w.])[A-Za-z_]\w*(?!\s*\w*\()/g) || [])
    .filter((n) => !functions.includes(n)))];
  const renderValues = () => {
    const used = namesIn(text.value);
    for (const n of used) if (!(n in values)) values[n] = 1;
    for (const n of Object.keys(values)) if (!used.includes(n)) delete values[n];
    box.replaceChildren(...Object.entries(values).map(([name, v]) => {
      const text = JSON.stringify(v);
      const input = el("input", { type: "text", id: `value-${name}`, value: text, spellcheck: "false",
        "aria-label": `value of ${name}`, dataset: { name }, style: `width: ${Math.min(26, Math.max(6, text.length + 2))}ch` });
      input.addEventListener("change", () => {
        try {
          values[name] = JSON.parse(input.value);
          input.classList.remove("invalid");
          ask(true);
        } catch { input.classList.add("invalid"); }
      });
      return el("label", { class: "value-field" }, el("span", { text: `${name} =` }), input);
    }));
  };
  const ask = async (keep) => {
    const mine = ++seq;
    try {
      const res = await api.differentiateExpression({ expression: text.value, values });
      if (mine !== seq) return;
      result = res;
      $("expr-error").textContent = "";
      stepper.set(stepCount(res), (s) => stepLabel(res, s), keep);
    } catch (e) {
      if (mine === seq) $("expr-error").textContent = e.message;
    }
  };
  const load = (i) => {
    const p = presets[i];
    text.value = p.expression;
    values = clone(p.values);
    renderValues();
    ask(false);
  };
  sel.addEventListener("change", () => { if (sel.value !== "") load(Number(sel.value)); });
  text.addEventListener("input", () => {
    sel.value = "";
    clearTimeout(timer);
    timer = setTimeout(() => { renderValues(); ask(false); }, 350);
  });
  window.addEventListener("resize", frameScheduler(() => draw(stepper.step)));   // at most once per frame
  load(0);
  return { redraw: () => draw(stepper.step) };
}

// ---- part 2: a small network, one forward / backward / SGD step
function mountNetwork(presets) {
  const sel = $("net-preset"), lrInput = $("net-lr"), rowSel = $("net-row");
  let spec = null, result = null, picked = null, seq = 0;
  presets.forEach((p, i) => sel.append(el("option", { value: i, text: p.title })));
  const ctx = () => ({ result, step: stepper.step, row: Number(rowSel.value || 0), targets: spec.y, lr: spec.learning_rate,
    loss: typeof spec.model.loss === "string" ? spec.model.loss : spec.model.loss.name, picked,
    onPick: (item) => {
      if (sameItem(item, picked)) return;
      picked = item;
      markPicked($("network"), item);
      explainNetwork($("net-explain"), ctx());
    } });
  const draw = () => {
    if (!result) return;
    const c = ctx();
    drawNetwork($("network"), c);
    explainNetwork($("net-explain"), c);
  };
  const stepper = mountStepper($("net-stepper"), () => draw());
  const ask = async (keep) => {
    const mine = ++seq;
    try {
      const res = await api.stepBackprop(spec);
      if (mine !== seq) return;
      result = res;
      $("net-error").textContent = "";
      $("net-loss-text").textContent = `loss: ${typeof spec.model.loss === "string" ? spec.model.loss : spec.model.loss.name}`
        + ` · E before the step ${num(res.loss, 9)}`;
      stepper.set(networkSteps(res).length, (s) => networkStepLabel(res, s), keep);
    } catch (e) {
      if (mine === seq) $("net-error").textContent = e.message;
    }
  };
  const renderRows = () => {
    $("net-row-field").hidden = spec.x.length < 2;
    rowSel.replaceChildren(...spec.x.map((x, n) => el("option", { value: n, text: `${n + 1}: x = ${JSON.stringify(x)}` })));
  };
  const load = (i) => {
    spec = clone({ model: presets[i].model, x: presets[i].x, y: presets[i].y, learning_rate: presets[i].learning_rate });
    lrInput.value = spec.learning_rate;
    picked = { kind: "weight", l: spec.model.layers.length - 1, i: 0, j: 0 };
    renderRows();
    renderEditor();
    ask(false);
  };
  // every input, target, weight and bias is a number field; a change asks the endpoint again
  const numberField = (label, get, set, id) => {
    const input = el("input", { type: "number", step: "any", id, value: get(), "aria-label": label });
    input.addEventListener("change", () => {
      const v = Number(input.value);
      if (input.value === "" || !Number.isFinite(v)) { input.classList.add("invalid"); return; }
      input.classList.remove("invalid");
      set(v);
      ask(true);
    });
    return el("label", { class: "num-field" }, el("span", { text: label }), input);
  };
  const renderEditor = () => {
    const fake = { layers: spec.model.layers.map((l) => ({ W: l.weights.W })) };
    const nm = names(fake);
    const groups = [];
    spec.x.forEach((row, n) => groups.push(el("div", { class: "edit-group" }, el("h4", { text: `sample ${n + 1}` }),
      ...row.map((_, i) => numberField(`i${i + 1}`, () => row[i], (v) => { row[i] = v; renderRows(); }, `edit-x-${n}-${i}`)),
      ...spec.y[n].map((_, k) => numberField(`target ${k + 1}`, () => spec.y[n][k], (v) => { spec.y[n][k] = v; }, `edit-y-${n}-${k}`)))));
    spec.model.layers.forEach((layer, l) => {
      const { W, b } = layer.weights;
      const fields = [];
      W[0].forEach((_, j) => W.forEach((wrow, i) => fields.push(numberField(nm.weight(l, i, j), () => wrow[j],
        (v) => { wrow[j] = v; }, `edit-${nm.weight(l, i, j)}`))));
      if (b) b.forEach((_, j) => fields.push(numberField(`b ${nm.unit(l, j)}`, () => b[j], (v) => { b[j] = v; }, `edit-b-${l}-${j}`)));
      groups.push(el("div", { class: "edit-group" }, el("h4", { text: l === spec.model.layers.length - 1 ? "output layer" : `hidden layer ${l + 1}` }), ...fields));
    });
    $("net-editor").replaceChildren(...groups);
  };
  sel.addEventListener("change", () => load(Number(sel.value)));
  lrInput.addEventListener("change", () => {
    const v = Number(lrInput.value);
    if (!(v > 0)) { lrInput.classList.add("invalid"); return; }
    lrInput.classList.remove("invalid");
    spec.learning_rate = v;
    ask(true);
  });
  rowSel.addEventListener("change", draw);
  window.addEventListener("resize", frameScheduler(draw));
  load(0);
  return { redraw: draw };
}

async function start() {
  mountTokenBox();
  let presets;
  try {
    presets = await api.getBackpropPresets();
  } catch (e) {
    $("expr-error").textContent = e.message;
    return;
  }
  const parts = {
    graph: mountExpressions(presets.expressions, presets.functions),
    network: mountNetwork(presets.networks),
    saturation: mountSaturation(presets.saturated_neuron),
  };
  mountTabs((name) => parts[name].redraw());
  const wanted = new URLSearchParams(location.search).get("part");
  if (wanted && $(`tab-${wanted}`)) $(`tab-${wanted}`).click();
  document.body.dataset.ready = "true";
}

start();
