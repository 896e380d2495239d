// cross-entropy vs squared error on a saturated sigmoid neuron: the same neuron stepped by POST
// /api/lessons/backprop once per loss, the first gradients side by side and both curves over the steps.
import * as api from "./api.js";
import { createLineChart, renderLegend } from "./charts.js";
import { el } from "./draw-util.js";
import { num } from "./lesson-util.js";

const STYLE = {   // Okabe-Ito vermilion / blue, and a dash, so the two never rely on colour alone
  half_squared_error: { color: "#D55E00", dash: [7, 4], title: "squared error", cost: "C = ½ (y − a)²",
    grad: "∂C/∂w = (a − y) · σ′(z) · x" },
  binary_crossentropy: { color: "#0072B2", title: "cross-entropy", cost: "C = −[y ln a + (1 − y) ln(1 − a)]",
    grad: "∂C/∂w = (a − y) · x" },
};
const FIELDS = [["w", "weight w"], ["b", "bias b"], ["x", "input x"], ["y", "target y"], ["learning_rate", "η"], ["steps", "steps"]];

export function mountSaturation(preset) {
  const layer0 = preset.model.layers[0];
  const state = { w: layer0.weights.W[0][0], b: layer0.weights.b[0], x: preset.x[0][0], y: preset.y[0][0],
    learning_rate: preset.learning_rate, steps: preset.steps };
  const lossChart = createLineChart(document.getElementById("sat-loss"), { xLabel: "step" });
  const outChart = createLineChart(document.getElementById("sat-out"), { xLabel: "step", yMin: 0, yMax: 1 });
  let seq = 0;
  const controls = document.getElementById("sat-controls");
  controls.replaceChildren(...FIELDS.map(([key, label]) => {
    const input = el("input", { type: "number", step: "any", id: `sat-${key}`, value: state[key] });
    input.addEventListener("change", () => {
      const v = Number(input.value);
      if (input.value === "" || !Number.isFinite(v)) { input.classList.add("invalid"); return; }
      input.classList.remove("invalid");
      state[key] = v;
      ask();
    });
    return el("div", { class: "field" }, el("label", { for: `sat-${key}`, text: label }), input);
  }));

  const body = (loss) => ({
    model: { ...preset.model, loss, layers: [{ ...layer0, weights: { W: [[state.w]], b: [state.b]} }] },
    x: [[state.x]], y: [[state.y]], learning_rate: state.learning_rate, steps: state.steps,
  });
  const card = (loss, r) => {
    const s = STYLE[loss] || { title: loss, cost: "", grad: "∂C/∂w" };
    const L = r.layers[0];
    const numbers = loss === "half_squared_error"
      ? `${num(L.dL_da[0][0], 6)} · ${num(L.da_dz[0][0], 6)} · ${num(L.input[0][0], 2)}`
      : `${num(L.dL_dz[0][0], 6)} · ${num(L.input[0][0], 2)}`;
    const last = r.curve.output.length - 1;
    return el("article", { class: "sat-card", dataset: { loss } },
      el("h3", {}, el("span", { class: "swatch-line", style: `border-top: 3px ${s.dash ? "dashed" : "solid"} ${s.color}` }), s.title),
      el("p", { class: "mono", text: s.cost }),
      el("p", { class: "big-line", text: `a = σ(${num(L.z[0][0], 2)}) = ${num(L.a[0][0], 6)},  σ′(z) = ${num(L.da_dz[0][0], 6)}` }),
      el("p", { class: "big-line" }, `${s.grad} = ${numbers} = `,
        el("strong", { class: "k-grad", dataset: { grad: loss }, text: num(L.dL_dW[0][0], 6) })),
      el("p", { text: `after ${last} steps: a = ${num(r.curve.output[last][0], 4)}, C = ${num(r.curve.loss[last], 4)}` }));
  };
  const ask = async () => {
    const mine = ++seq;
    try {
      const results = await Promise.all(preset.losses.map((loss) => api.stepBackprop(body(loss))));
      if (mine !== seq) return;
      document.getElementById("sat-error").textContent = "";
      document.getElementById("sat-cards").replaceChildren(...preset.losses.map((loss, k) => card(loss, results[k])));
      const series = (key) => preset.losses.map((loss, k) => ({ label: (STYLE[loss] || {}).title || loss,
        color: (STYLE[loss] || {}).color, dash: (STYLE[loss] || {}).dash,
        points: results[k].curve[key].map((v, i) => [i, key === "loss" ? v : v[0]]) }));
      const loss = series("loss"), out = series("output");
      lossChart.set(loss);
      outChart.set(out, { yMin: 0, yMax: 1 });
      renderLegend(document.getElementById("sat-loss-legend"), loss);
      renderLegend(document.getElementById("sat-out-legend"), out);
    } catch (e) {
      if (mine === seq) document.getElementById("sat-error").textContent = e.message;
    }
  };
  ask();
  return { redraw: () => { lossChart.request(); outChart.request(); } };
}
