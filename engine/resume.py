"""Continue a run, or fine-tune: start a new training run from a saved model.

The model file (engine/model.py) carries the optimizer's per-parameter slots ("optimizer/{key}/{slot}")
and its name and step count; `start_from(path)` copies both into a freshly built model and optimizer, after
checking that the saved network has exactly the same parameters. `start_from({"path", "layers": [0, 1]})`
copies only the named layers' weights (and batchnorm state), shapes checked layer by layer, and leaves the
rest of the network and the optimizer fresh: transfer learning, e.g. a digit model's convolutions reused
for Fashion-MNIST, or a pre-trained encoder under a new softmax.
"""
from __future__ import annotations

import os

import numpy as np

from .errors import Problem, SpecError

PATH = "init_from"


def saved_model(path: str | os.PathLike):
    """Load the model file to start from; SpecError naming `init_from` when it is not one."""
    from .model import load_model
    try:
        return load_model(path)
    except SpecError as e:
        raise SpecError(f"cannot continue from this model: {e}", PATH) from None


def architecture_problems(model_spec: dict, saved) -> list[Problem]:
    """Why a network built from `model_spec` cannot take `saved`'s weights (empty when it can)."""
    from .model import count_params
    want = [{k: v for k, v in layer.items() if k != "weights"} for layer in model_spec["layers"]]
    have = [{k: v for k, v in layer.items() if k != "weights"} for layer in saved.spec["layers"]]
    if list(model_spec.get("input_shape") or saved.input_shape) != list(saved.input_shape):
        return [Problem(PATH, f"the saved model takes inputs of shape {list(saved.input_shape)}, this spec "
                              f"{model_spec.get('input_shape')}")]
    if len(want) != len(have) or any(w.get("type") != h.get("type") for w, h in zip(want, have)):
        return [Problem(PATH, "the saved model has different layers (" + ", ".join(h["type"] for h in have)
                              + "); continue with the same network")]
    for i, (w, h) in enumerate(zip(want, have)):
        for key in ("units", "filters", "kernel_size", "pieces", "use_bias"):
            if w.get(key) != h.get(key):
                return [Problem(f"model.layers.{i}.{key}", f"is {w.get(key)!r} but the model to continue from "
                                                          f"has {h.get(key)!r}")]
    if count_params({**model_spec, "input_shape": list(saved.input_shape)}) != saved.n_params():
        return [Problem(PATH, "the saved model's parameter shapes differ from this network's")]
    return []


def layer_problems(model_spec: dict, saved, layers: list[int]) -> list[Problem]:
    """Why the saved model's `layers` cannot be copied into a network built from `model_spec` (empty when
    they can): each must exist in both, be of the same type and have parameters of the same shapes."""
    from .model import layer_param_shapes
    mine, theirs = layer_param_shapes(model_spec), saved.layers
    problems = []
    for n, i in enumerate(layers):
        path = f"{PATH}.layers.{n}"
        if layers.index(i) != n:
            problems.append(Problem(path, f"layer {i} is listed twice"))
        elif not 0 <= i < min(len(mine), len(theirs)):
            problems.append(Problem(path, f"layer {i} does not exist: the saved model has {len(theirs)} layers, "
                                          f"this network {len(mine)}"))
        elif model_spec["layers"][i]["type"] != theirs[i].name:
            problems.append(Problem(path, f"layer {i} is {model_spec['layers'][i]['type']} here but "
                                          f"{theirs[i].name} in the saved model"))
        else:
            have = {k: tuple(v.shape) for k, v in theirs[i].params.items()}
            for key in sorted(set(mine[i]) | set(have)):
                if mine[i].get(key) != have.get(key):
                    problems.append(Problem(path, f"layer {i} ({theirs[i].name}): {key} has shape "
                                                  f"{list(have.get(key) or [])} in the saved model but "
                                                  f"{list(mine[i].get(key) or [])} in this network"))
                    break
    return problems


def copy_layers(saved, model, layers: list[int]) -> None:
    """Copy the parameters and state of `layers` from `saved` into `model` (checked by layer_problems)."""
    weights = saved.get_weights()
    prefixes = tuple(f"{i}." for i in layers)
    model.set_weights({k: v for k, v in weights.items() if k.startswith(prefixes)})


def start_from(init_from, model, optimizer) -> None:
    """Copy the saved weights (and state) into `model`, and the saved optimizer state into `optimizer`
    when it is the same optimizer (a different one starts with fresh state, as switching in Keras).
    `init_from` is the model file's path, or {"path", "layers": [i, ...]} to copy only those layers."""
    if isinstance(init_from, dict) and init_from.get("layers") is not None:
        saved = saved_model(init_from["path"])
        problems = layer_problems(model.spec, saved, list(init_from["layers"]))
        if problems:
            raise SpecError(problems)
        copy_layers(saved, model, list(init_from["layers"]))
        return
    path = init_from["path"] if isinstance(init_from, dict) else init_from
    saved = saved_model(path)
    problems = architecture_problems(model.spec, saved)
    if problems:
        raise SpecError(problems)
    model.set_weights(saved.get_weights())
    state = getattr(saved, "optimizer_state", None)
    if state and state["name"] == getattr(optimizer, "name", None):
        optimizer.iterations = int(state["iterations"])
        slots = {key: {slot: np.array(a, dtype=model.params[key].dtype) for slot, a in by_slot.items()}
                 for key, by_slot in state["slots"].items() if key in model.params}
        if model.flat is None:
            optimizer.state = slots
        else:   # the trainer steps one flat vector: pack each slot the same way
            from .flat import FLAT_KEY
            names = {slot for by_slot in slots.values() for slot in by_slot}
            optimizer.state = {FLAT_KEY: {
                slot: model.flat.pack({k: s[slot] for k, s in slots.items() if slot in s},
                                      optimizer._initial(optimizer.slots.get(slot, 0.0))) for slot in names}}
