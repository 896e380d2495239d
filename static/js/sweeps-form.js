// the "define a sweep" form: which settings to vary and how, from the catalog's sweep Params and suggested
// ranges (the engine's); the server checks the whole sweep (422 naming the field) before anything runs.
import { el } from "./draw-util.js";

/** the catalog's suggestions for this base spec: "model.layers.{i}.units" once per hidden layer */
export function suggestionsFor(catalog, base) {
  const out = [];
  const layers = base?.model?.layers || [];
  for (const s of catalog.sweeps.suggested) {
    if (!s.hidden_layers) { out.push(s); continue; }
    layers.slice(0, -1).forEach((layer, i) => {
      if (layer.units === undefined) return;
      out.push({ ...s, path: s.path.replace("{i}", i), label: s.label.replace("{n}", i + 1) });
    });
  }
  return out;
}

function paramInput(p, id, value) {
  const attrs = { id, "data-param": p.name, type: p.type === "choice" ? undefined : "number", title: p.help || undefined };
  if (p.type === "choice") {
    const sel = el("select", attrs, ...(p.nullable ? [el("option", { value: "", text: "auto" })] : []),
      ...p.choices.map((c) => el("option", { value: c, text: c })));
    sel.value = value ?? "";
    return sel;
  }
  return el("input", { ...attrs, step: p.type === "int" ? 1 : "any", min: p.min ?? undefined,
                       max: p.max ?? undefined, value: value ?? p.default ?? "" });
}

function readParam(p, input) {
  if (p.type === "choice") return input.value === "" ? null : input.value;
  const v = Number(input.value);
  return input.value === "" ? null : v;
}

/** a range end as text: 1e-6, not 0.000001 (which an input box cuts to 0.00000) */
function endText(v) {
  if (v === undefined || v === null) return "";
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential().replace(/\.?0+e/, "e") : String(v);
}

/** mount the options row (method, n_trials, metric, goal, seed, max_parallel) and the halving options */
export function mountOptions(container, halvingBox, catalog, limits) {
  const options = catalog.sweeps.options.map((p) => {
    const cap = { n_trials: limits.max_sweep_trials, max_parallel: limits.max_sweep_parallel }[p.name];
    return cap ? { ...p, max: cap } : p;
  });
  const inputs = new Map(options.map((p) => [p.name, paramInput(p, `sweep-${p.name.replace("_", "-")}`, p.default)]));
  container.replaceChildren(...options.map((p) => el("label", {}, p.name.replace("_", " "), " ", inputs.get(p.name))));
  const halving = catalog.sweeps.early_termination.halving;
  const hInputs = new Map(halving.params.map((p) => [p.name, paramInput(p, `halving-${p.name.replace("_", "-")}`)]));
  halvingBox.replaceChildren(...halving.params.map((p) => el("label", {}, p.name.replace("_", " "), " ", hInputs.get(p.name))));
  return {
    read() {
      const out = {};
      for (const p of options) {
        const v = readParam(p, inputs.get(p.name));
        if (v !== null) out[p.name] = v;
      }
      return out;
    },
    readHalving() {
      const out = { name: "halving" };
      for (const p of halving.params) out[p.name] = readParam(p, hInputs.get(p.name));
      return out;
    },
    write(sweep) {
      for (const p of options) if (sweep[p.name] !== undefined) inputs.get(p.name).value = sweep[p.name] ?? "";
    },
  };
}

/** the settings table: one row per suggestion, with its distribution (or values) and range */
export function mountParameters(tbody, catalog) {
  let rows = [];
  const distNames = Object.keys(catalog.sweeps.distributions);
  function render(suggestions, chosen = {}) {
    rows = suggestions.map((s) => {
      const spec = chosen[s.path] || s;
      const vary = el("input", { type: "checkbox", "aria-label": `vary ${s.label}` });
      vary.checked = Boolean(chosen[s.path]);
      const dist = el("select", { "aria-label": `${s.label} distribution` },
        ...distNames.map((n) => el("option", { value: n, text: n.replace("_", " ") })), el("option", { value: "values", text: "values" }));
      dist.value = spec.values ? "values" : spec.distribution;
      const min = el("input", { type: "text", size: 8, "aria-label": `${s.label} min`, value: endText(spec.min) });
      const max = el("input", { type: "text", size: 8, "aria-label": `${s.label} max`, value: endText(spec.max) });
      const values = el("input", { type: "text", size: 16, "aria-label": `${s.label} values`,
                                   value: (spec.values || s.values || []).join(", ") });
      const minCell = el("td", {}, min), maxCell = el("td", {}, max);
      const sync = () => {
        const listed = dist.value === "values";
        min.hidden = listed; maxCell.hidden = listed;
        values.hidden = !listed;
        minCell.colSpan = listed ? 2 : 1;
      };
      minCell.append(values);
      dist.addEventListener("change", sync);
      sync();
      const tr = el("tr", { "data-path": s.path }, el("td", {}, vary), el("td", { title: s.path, text: s.label }),
                    el("td", {}, dist), minCell, maxCell);
      return { s, vary, dist, min, max, values, tr };
    });
    tbody.replaceChildren(...rows.map((r) => r.tr));
  }
  const num = (text) => (text.trim() === "" ? null : Number(text));
  return {
    render,
    /** {path: {"distribution", "min", "max"} | {"values"}} of the ticked rows */
    read() {
      const out = {};
      for (const r of rows) {
        if (!r.vary.checked) continue;
        if (r.dist.value === "values") {
          out[r.s.path] = { values: r.values.value.split(",").map((v) => v.trim()).filter(Boolean)
            .map((v) => (Number.isFinite(Number(v)) ? Number(v) : v)) };
        } else {
          out[r.s.path] = { distribution: r.dist.value, min: num(r.min.value), max: num(r.max.value) };
        }
      }
      return out;
    },
  };
}
