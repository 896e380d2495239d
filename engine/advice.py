"""Checks that need the model and the data together: does the output layer fit the task (an error),
and what will surprise a learner (warnings: the step activation's zero gradient, mismatched losses)."""
from __future__ import annotations

import math

from .errors import Problem
from .losses import loss_name, make_loss


def _last_sized_layer(layers: list[dict]) -> tuple[int, dict] | None:
    for i in range(len(layers) - 1, -1, -1):
        if "units" in layers[i]:
            return i, layers[i]
    return None


def _output_values(model_spec: dict) -> int | None:
    """Values per example the network puts out (its shapes walked), None when a layer cannot take its input."""
    from .errors import SpecError
    from .model import _instantiate
    shape = tuple(model_spec["input_shape"])
    try:
        for i, spec in enumerate(model_spec["layers"]):
            shape = _instantiate(spec, f"model.layers.{i}").compute_output_shape(shape)
    except SpecError:
        return None
    return math.prod(shape)


def _final_activation(layers: list[dict]) -> str:
    act = layers[-1].get("activation", "linear") if layers else "linear"
    return act.get("name") if isinstance(act, dict) else act


def _steps(model_spec: dict) -> int:
    """Time steps of a sequence model's input (N, T, D); 1 for other inputs."""
    shape = model_spec.get("input_shape") or [1]
    return shape[0] if len(shape) == 2 else 1


def resolve_null_units(model_spec: dict, task: str | None, n_classes: int | None,
                       n_targets: int | None) -> list[Problem]:
    """Fill, in place, an output layer's `"units": null` from the data (classes, target width; 1 for a binary
    head such as sigmoid + binary_crossentropy); a null anywhere else, or without known data, is a Problem."""
    from .losses import output_heads
    layers = model_spec["layers"]
    found = _last_sized_layer(layers)
    problems = []
    for i, layer in enumerate(layers):
        if "units" not in layer or layer["units"] is not None:
            continue
        path = f"model.layers.{i}.units"
        if found is None or i != found[0]:
            problems.append(Problem(path, "only the output layer's units may be null (taken from the dataset)"))
        elif task is None:
            problems.append(Problem(path, "is null, which takes the number from the dataset; the dataset is not "
                                          "known here"))
        else:
            heads = output_heads(task, n_classes, n_targets or 1)
            mine = [h for h in heads if h["activation"] == _final_activation(layers)
                    and h["loss"] == loss_name(model_spec["loss"])]
            layer["units"] = (mine or heads)[0]["units"]
            if layer["type"] == "time_distributed" and task == "regression":   # per-step targets (N, T)
                layer["units"] = max(1, layer["units"] // _steps(model_spec))
    return problems


def output_problems(model_spec: dict, task: str, n_classes: int | None, n_targets: int = 1) -> list[Problem]:
    """Errors: an output layer or loss that cannot be trained on this task (`n_targets`: regression
    target values per example, one output unit each)."""
    found = _last_sized_layer(model_spec["layers"])
    if found is None:
        # no layer sets a width (only activation, dropout...): the output is the input, shape and all
        shape = list(model_spec["input_shape"])
        if len(shape) != 1:
            return [Problem("model.layers", f"no layer gives the output a width, so the output is the input, of "
                                            f"shape {shape}; end the network with a dense layer")]
        last, path = {"type": "input", "units": shape[0]}, "model.layers"
    else:
        i, last = found
        path = f"model.layers.{i}.units"
    units, loss = last["units"], loss_name(model_spec["loss"])
    if task == "reconstruction":
        # a conv decoder ends in conv2d + flatten: what counts is the values the network puts out, not
        # the width of its last dense layer (which feeds a reshape)
        values = _output_values(model_spec)
        if values is not None and values != units and values != n_targets:
            return [Problem(f"model.layers.{len(model_spec['layers']) - 1}",
                            f"the network rebuilds its inputs (dataset target \"input\"): {n_targets} values per "
                            f"example, but its last layer puts out {values}")]
        return _reconstruction_problems(model_spec, units if values is None else values, path, n_targets)
    if task == "regression":
        if last["type"] == "time_distributed":   # + flatten: units per step, for each of the T steps
            units *= _steps(model_spec)
        if units != n_targets:
            return [Problem(path, f"the dataset has {n_targets} target value(s) per example; the output layer "
                                  f"needs {n_targets} unit(s), not {units}")]
        if make_loss(model_spec["loss"]).classification_only:
            return [Problem("model.loss", f"{loss} is for classification; use mean_squared_error for regression")]
        return []
    allowed = {n_classes, 1} if n_classes == 2 else {n_classes}
    if units not in allowed:
        need = " or ".join(str(u) for u in sorted(allowed))
        return [Problem(path, f"the dataset has {n_classes} classes; the output layer needs {need} unit(s), not {units}")]
    # the loss knows which output layers it can read (cross-entropies: their own activation or logits)
    problem = make_loss(model_spec["loss"]).activation_problem(_final_activation(model_spec["layers"]), units)
    return [Problem("model.loss", problem)] if problem else []


def _reconstruction_problems(model_spec: dict, units: int, path: str, n_values: int) -> list[Problem]:
    """An autoencoder's output: one unit per input value, and a loss that compares values."""
    if units != n_values:
        return [Problem(path, f"the network rebuilds its inputs (dataset target \"input\"): {n_values} values per "
                              f"example, so the output layer needs {n_values} unit(s), not {units}")]
    loss = make_loss(model_spec["loss"])
    if not loss.reconstruction_heads:
        return [Problem("model.loss", f"{loss.name} cannot compare an output with its input; use "
                                      "mean_squared_error, or binary_crossentropy for pixels in [0, 1]")]
    problem = loss.activation_problem(_final_activation(model_spec["layers"]), units)
    return [Problem("model.loss", problem)] if problem else []


def advise(spec: dict) -> list[Problem]:
    """Warnings for a normalized job spec: it trains, but probably not as the user hopes."""
    layers = spec["model"]["layers"]
    notes = []
    for i, layer in enumerate(layers):
        act = layer.get("activation")
        name = act.get("name") if isinstance(act, dict) else act
        if name == "step":
            notes.append(Problem(f"model.layers.{i}.activation",
                                 "step has a zero gradient everywhere: this layer and every layer before it "
                                 "will not learn (use sigmoid, tanh or relu to train; step suits hand-set weights)"))
    final = _final_activation(layers)
    last = _last_sized_layer(layers)
    if final == "softmax" and last and last[1]["units"] == 1:
        notes.append(Problem("model.layers", "softmax over a single unit always outputs 1; use sigmoid"))
    sigmoid_layers = sum(1 for l in layers[:-1] if l.get("activation") == "sigmoid")
    if sigmoid_layers >= 5:
        notes.append(Problem("model.layers", f"{sigmoid_layers} sigmoid layers: expect vanishing gradients in the "
                                             "first layers (watch the gradient norms)"))
    return notes
