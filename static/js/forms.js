// form controls generated from catalog Params ({name, type, default, min, max, choices, help, nullable}).
import { el } from "./draw-util.js";

let uid = 0;

export function labelText(name) {
  return name.replace(/_/g, " ");
}

/** choices of a catalog family ({name: {doc, params}} or [names]) as [{value, doc}] */
export function familyOptions(family) {
  if (!family) return [];
  if (Array.isArray(family)) return family.map((f) => (typeof f === "string" ? { value: f, doc: "" } : { value: f.name, doc: f.doc || "" }));
  return Object.entries(family).map(([value, entry]) => ({ value, doc: entry?.doc || "" }));
}

export function familyParams(family, name) {
  if (!family || !name) return [];
  if (Array.isArray(family)) return family.find((f) => f.name === name)?.params || [];
  return family[name]?.params || [];
}

export function selectEl(options, value, onChange, attrs = {}) {
  const sel = el("select", attrs);
  for (const o of options) {
    const opt = el("option", { value: o.value, title: o.doc || undefined, text: o.label ?? labelText(String(o.value)) });
    sel.append(opt);
  }
  if (value !== undefined && value !== null) sel.value = String(value);
  sel.addEventListener("change", () => onChange(sel.value));
  return sel;
}

/** defaults of a param list as an object */
export function paramDefaults(params) {
  const out = {};
  for (const p of params || []) out[p.name] = p.default;
  return out;
}

function parseValue(p, raw) {
  if (p.type === "bool") return raw;
  if (raw === "" && p.nullable) return null;
  if (p.type === "int") return Number.parseInt(raw, 10);
  if (p.type === "float") return Number.parseFloat(raw);
  if (p.type === "int_list" || p.type === "float_list") {
    return String(raw).split(/[ ,]+/).filter(Boolean).map(Number);
  }
  return raw;
}

/** one labelled input for a Param; onChange(value) gets the parsed value (invalid numbers are not sent) */
export function paramInput(p, value, onChange, { compact = false, empty = "none", catalog = null } = {}) {
  const id = `f${++uid}`;
  const v = value === undefined ? p.default : value;
  let input;
  if (p.type === "bool") {
    input = el("input", { id, type: "checkbox" });
    input.checked = Boolean(v);
    input.addEventListener("change", () => onChange(input.checked));
  } else if (p.type === "choice") {
    const opts = (p.choices || []).map((c) => ({ value: c }));
    if (p.nullable) opts.unshift({ value: "", label: "none" });
    const current = v && typeof v === "object" ? v.name : v;
    input = selectEl(opts, current ?? "", (val) => onChange(val === "" ? null : val), { id });
    // the chosen entry's own options (random_normal's stddev, leaky_relu's alpha), from the catalog
    const family = catalog && p.choices_from ? catalog[catalog.families?.[p.choices_from]] : null;
    const sub = family && current ? familyParams(family, current) : [];
    if (sub.length) {
      const own = v && typeof v === "object" ? v : { name: current };
      const subFields = paramFields(sub, own, (o) => onChange({ ...o, name: current }), { compact: true });
      subFields.classList.add("sub-options");
      input = el("div", { class: "choice-with-options" }, input, subFields);
    }
  } else {
    const numeric = p.type === "int" || p.type === "float";
    input = el("input", {
      id,
      type: numeric ? "number" : "text",
      min: numeric && p.min !== null && p.min !== undefined ? p.min : undefined,
      max: numeric && p.max !== null && p.max !== undefined ? p.max : undefined,
      step: p.type === "int" ? 1 : numeric ? "any" : undefined,
      placeholder: p.nullable ? empty : undefined,
      inputmode: p.type === "float" ? "decimal" : undefined,
    });
    input.value = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v);
    input.addEventListener("change", () => {
      const parsed = parseValue(p, input.value);
      const bad = numeric && parsed !== null && !Number.isFinite(parsed);
      input.classList.toggle("invalid", bad);
      if (!bad) onChange(parsed);
    });
  }
  (input.matches?.("select, input") ? input : input.querySelector("select")).dataset.param = p.name;
  const label = el("label", { for: id, title: p.help || undefined, text: labelText(p.name) });
  return el("div", { class: compact ? "field compact" : "field" }, label, input);
}

/** a block of inputs for `params`; values is the current dict, onChange(newDict) */
export function paramFields(params, values, onChange, opts = {}) {
  const skip = new Set(opts.skip || []);
  const box = el("div", { class: "fields" });
  for (const p of params || []) {
    if (skip.has(p.name)) continue;
    box.append(paramInput(p, values?.[p.name], (val) => onChange({ ...values, [p.name]: val }), opts));
  }
  return box;
}
