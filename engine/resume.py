"""Continue a run: start a new training run from a saved model's weights and optimizer state.

The model file (engine/model.py) carries the optimizer's per-parameter slots ("optimizer/{key}/{slot}")
and its name and step count; `start_from` copies both into a freshly built model and optimizer, after
checking that the saved network has exactly the same parameters.
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


def start_from(path, model, optimizer) -> None:
    """Copy the saved weights (and state) into `model`, and the saved optimizer state into `optimizer`
    when it is the same optimizer (a different one starts with fresh state, as switching in Keras)."""
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
