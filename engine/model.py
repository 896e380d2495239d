"""Model: a stack of layers built from a model spec, with flat "{i}.W" parameter keys.

Saves to one .npz (weights + JSON spec + fitted input pipeline); loading never unpickles.
"""
from __future__ import annotations

import copy
import io
import json
import math
import os
import tempfile
from typing import Callable

import numpy as np

from .errors import Problem, SpecError
from .layer_flags import flag_problems, frozen_layers, normalize_flags
from .layers import LAYERS, WeightedLayer
from .losses import make_loss
from .pipeline import InputPipeline

DTYPES = ("float32", "float64")
PREDICT_BATCH = 4096                    # rows per forward pass in predict/evaluate, at most
# what one inference chunk may keep in activations: a conv net's im2col columns made 4096-row chunks cost ~1 GB;
# and smaller chunks stay in a core's 2 MB L2 better: the digit model's 10k test images 0.81 s at 64 MB (184
# rows), 0.66 s at 32 MB (92 rows), 1 thread; the same 0.43-0.45 s with 2 threads; small CNN 0.27 -> 0.23 s
INFERENCE_BYTES = 32 * 2**20


def inference_rows(spec: dict) -> int:
    """Rows per inference chunk for a normalized model spec: PREDICT_BATCH, fewer when each row's
    activations (engine/memory.py's per-example costs) would pass INFERENCE_BYTES."""
    from .memory import _layer_costs
    item = np.dtype(spec["dtype"]).itemsize
    per_row = item * sum(cost.kept for cost, _ in _layer_costs(spec))
    return int(max(1, min(PREDICT_BATCH, INFERENCE_BYTES // max(per_row, 1))))


def _instantiate(spec: dict, path: str):
    """Layer object (not built) from one layer spec."""
    if not isinstance(spec, dict):
        raise SpecError(f"must be an object with a \"type\", got {type(spec).__name__}", path)
    return LAYERS.build(spec, path)  # "type" names it; "weights" is data, copied in after build


def _explicit_weights(layer, given: object, path: str) -> None:
    """Copy user-given {"W": ..., "b": ...} into a built layer, checking shapes."""
    if not isinstance(layer, WeightedLayer):
        raise SpecError("only dense and conv2d layers take explicit weights", path)
    if not isinstance(given, dict):
        raise SpecError("must be an object {\"W\": [[...]], \"b\": [...]}", path)
    for key, value in given.items():
        if key not in layer.params:
            raise SpecError(f"unknown weight {key!r}; this layer has {', '.join(layer.params)}", f"{path}.{key}")
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise SpecError("must be a (nested) list of numbers", f"{path}.{key}") from None
        want = layer.params[key].shape
        if arr.shape != want:
            raise SpecError(f"has shape {list(arr.shape)} but this layer needs {list(want)}", f"{path}.{key}")
        if not np.all(np.isfinite(arr)):
            raise SpecError("must contain only finite numbers", f"{path}.{key}")
        layer.params[key][...] = arr


class Model:
    def __init__(self, spec: dict, layers: list, pipeline: InputPipeline | None = None):
        self.spec = spec                  # normalized model spec (input_shape filled in)
        self.layers = layers
        self.dtype = np.dtype(spec["dtype"])
        self.input_shape = tuple(spec["input_shape"])
        self.output_shape = layers[-1].output_shape if layers else self.input_shape
        # the loss, read for this model's final activation, says what the outputs mean
        self.loss = make_loss(spec["loss"], final_activation=self.final_activation())
        self.pipeline = pipeline or InputPipeline()
        # what the model was trained for: set by the trainer, kept in the model file
        self.task: str | None = "classification" if self.loss.classification_only else None
        self.class_names: list[str] | None = None
        # flat views share memory with the layers, so in-place optimizer updates reach them
        self.params = {f"{i}.{k}": p for i, layer in enumerate(layers) for k, p in layer.params.items()}
        self.frozen = frozen_layers(spec)        # layers marked "trainable": false
        for i in self.frozen:                    # a layer's own non-trainable state (batchnorm's statistics) holds too
            layers[i].trainable = False
        self.chunk_rows = inference_rows(spec)   # forward_batched's chunk: bounded memory for any network
        self.flat = None               # FlatParams when the trainer packed the parameters (engine/flat.py)
        self.optimizer = None          # set by the trainer; its state is saved with the model (engine/resume.py)
        self.optimizer_state: dict | None = None   # what a loaded model file carried
        # called between layers of forward and backward (the trainer's cancel check: a multi-second batch
        # stops between two layers, not after the whole batch); it may raise to abandon the pass
        self.between_layers: Callable[[], None] | None = None

    # -- forward / backward ---------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = np.asarray(x, dtype=self.dtype)
        for layer in self.layers:
            out = layer.forward(out, training=training)
            if self.between_layers is not None:
                self.between_layers()
        return out

    def backward(self, grad_out: np.ndarray, start: int | None = None, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate d(loss)/d(output of layer `start`, default the last); fills self.grads.

        Returns d(loss)/d(input), or None with input_grad=False (training skips that product).
        """
        grad = grad_out
        last = len(self.layers) - 1 if start is None else start
        self.layers[0].needs_input_grad = input_grad
        for layer in reversed(self.layers[:last + 1]):
            grad = layer.backward(grad)
            if self.between_layers is not None:
                self.between_layers()
        return grad

    @property
    def grads(self) -> dict[str, np.ndarray]:
        if self.flat is not None:
            self.flat.sync_grads()
        return {f"{i}.{k}": g for i, layer in enumerate(self.layers) for k, g in layer.grads.items()}

    @property
    def state(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": s for i, layer in enumerate(self.layers) for k, s in layer.state.items()}

    def final_activation(self) -> str:
        act = getattr(self.layers[-1], "activation", None)
        return getattr(act, "name", "linear")

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray | None = None,
                          targets: np.ndarray | None = None, training: bool = True) -> tuple[float, np.ndarray]:
        """One training forward + backward. Returns (data loss, output). Fills self.grads.

        `y`: labels or targets as the dataset gives them; or `targets`: already as the loss compares them
        (`self.loss.targets(y, out)`, which the trainer makes once for the whole training set).
        `training=False` runs the forward as inference (no dropout, batchnorm's running statistics read,
        not moved): the probes' gradients on a fixed batch change nothing.

        When the loss fuses with the final activation (softmax + categorical cross-entropy,
        sigmoid + binary cross-entropy), the gradient w.r.t. the pre-activation is exact and stable.
        """
        out = self.forward(x, training=training)
        t = self.loss.targets(y, out) if targets is None else targets
        last = self.layers[-1]
        if self.loss.fused_with and self.loss.fused_with == self.final_activation():
            z = last.z if isinstance(last, WeightedLayer) else last.x
            loss, gz = self.loss.fused(z, out, t)
            if isinstance(last, WeightedLayer):
                last.needs_input_grad = len(self.layers) > 1
                gz = last.backward_from_preactivation(gz)
            if len(self.layers) > 1:  # a separate activation layer is skipped: gz is its input gradient
                self.backward(gz, start=len(self.layers) - 2, input_grad=False)
        else:  # includes logits: a linear output with a cross-entropy fuses the softmax / sigmoid in the loss
            loss, grad = self.loss.value_and_grad(out, t)
            self.backward(grad, input_grad=False)
        return loss, out

    # -- inference ------------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for raw inputs: applies the stored input pipeline (features, preprocessing) first."""
        x = self.pipeline.transform(np.asarray(x, dtype=np.float64)).astype(self.dtype, copy=False)
        return self.forward_batched(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, max(K, 2)) class probabilities for raw inputs, as the loss reads the outputs."""
        return self.loss.probabilities(self.predict(x))

    @property
    def is_classifier(self) -> bool:
        return self.task == "classification"

    def predict_labels(self, x: np.ndarray) -> np.ndarray:
        """(N,) int64 class labels for raw inputs, as the loss reads the outputs."""
        return self.loss.labels(self.predict(x))

    def forward_batched(self, x: np.ndarray, batch: int | None = None) -> np.ndarray:
        batch = batch or self.chunk_rows
        if len(x) <= batch:
            return self.forward(x, training=False)
        return np.concatenate([self.forward(x[i:i + batch], training=False) for i in range(0, len(x), batch)])

    # -- weights --------------------------------------------------------------------------
    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in {**self.params, **self.state}.items()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy into the existing arrays (keeps optimizer references valid); shapes must match."""
        targets = {**self.params, **self.state}
        for key, value in weights.items():
            if key not in targets:
                raise SpecError(f"unknown weight {key!r}; the model has {', '.join(targets)}", "weights")
            if np.shape(value) != targets[key].shape:
                raise SpecError(f"{key} has shape {list(np.shape(value))}, the model needs "
                                f"{list(targets[key].shape)}", "weights")
            targets[key][...] = value

    def optimizer_state_by_key(self) -> dict[str, dict[str, np.ndarray]]:
        """The optimizer's slots per parameter key ("0.W": {"m": ...}), whether it steps per key or flat."""
        from .flat import FLAT_KEY
        state = self.optimizer.state if self.optimizer is not None else {}
        if FLAT_KEY not in state or self.flat is None:
            return state
        per_slot = {slot: self.flat.split(a) for slot, a in state[FLAT_KEY].items()}   # slot -> key -> view
        return {key: {slot: views[key] for slot, views in per_slot.items()} for key in self.flat.keys}

    def summary(self) -> list[dict]:
        """One JSON-ready row per layer: index, type, text, output shape, parameter count."""
        return [{"index": i, "type": layer.name, "text": layer.describe(),
                 "output_shape": list(layer.output_shape), "params": layer.n_params()}
                for i, layer in enumerate(self.layers)]

    def summary_text(self) -> str:
        rows = [f"{r['index']:>3}  {r['text']:<28} {str(tuple(r['output_shape'])):<16} {r['params']:>10,}"
                for r in self.summary()]
        head = f"{'#':>3}  {'layer':<28} {'output':<16} {'params':>10}"
        return "\n".join([head, *rows, f"total parameters: {self.n_params():,}"])

    # -- files ----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write one .npz atomically (temp file + rename): weights, state, pipeline and the JSON spec."""
        arrays = {f"param/{k}": v for k, v in self.params.items()}
        arrays.update({f"state/{k}": v for k, v in self.state.items()})
        pipe_config, pipe_arrays = self.pipeline.to_saved()
        arrays.update({f"pipeline/{k}": v for k, v in pipe_arrays.items()})
        optimizer = None
        if self.optimizer is not None:
            arrays.update({f"optimizer/{key}/{slot}": a for key, slots in self.optimizer_state_by_key().items()
                           for slot, a in slots.items()})
            optimizer = {"name": self.optimizer.name, "iterations": self.optimizer.iterations}
        spec = {**self.spec, "layers": [{k: v for k, v in layer.items() if k != "weights"}
                                         for layer in self.spec["layers"]]}  # weights are in the arrays
        meta = {"format": "nnplay-model", "version": 1, "spec": spec, "pipeline": pipe_config,
                "task": self.task, "class_names": self.class_names, "optimizer": optimizer}
        arrays["meta_json"] = np.array(json.dumps(meta))  # unicode array: loads without pickle
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        _atomic_write(path, buf.getvalue())


def _atomic_write(path, data: bytes) -> None:
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def normalize_model_spec(spec: dict, input_shape=None) -> dict:
    """Copy of `spec` with dtype, input_shape and every layer's options filled in (raises SpecError)."""
    if not isinstance(spec, dict):
        raise SpecError("must be an object with \"layers\" and \"loss\"", "model")
    if "type" in spec:                     # a model that is not a stack of layers (engine/knn.py)
        from .knn import is_knn, normalize_knn_spec
        if not is_knn(spec):
            raise SpecError(f"unknown model type {spec['type']!r}; allowed: knn (or leave type out and give layers)",
                            "model.type")
        return normalize_knn_spec(spec, input_shape)
    spec = copy.deepcopy(spec)
    problems: list[Problem] = []
    spec.setdefault("dtype", "float32")
    if spec["dtype"] not in DTYPES:
        problems.append(Problem("model.dtype", f"must be one of {', '.join(DTYPES)}, got {spec['dtype']!r}"))
    shape = spec.get("input_shape", input_shape)
    if (not isinstance(shape, (list, tuple)) or not shape or
            not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 100_000 for d in shape)):
        problems.append(Problem("model.input_shape", f"must be a list of positive sizes like [2] or [1, 28, 28], got {shape!r}"))
    else:
        spec["input_shape"] = list(shape)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        problems.append(Problem("model.layers", "must be a non-empty list of layers"))
        layers = []
    if "loss" not in spec:
        problems.append(Problem("model.loss", "is required"))
    else:
        try:
            loss = make_loss(spec["loss"])
            if isinstance(spec["loss"], dict):    # a name stays a name; options get their defaults filled
                spec["loss"] = {"name": loss.name, **loss.config}
        except SpecError as e:
            problems.extend(e.problems)
    for i, layer_spec in enumerate(layers):
        try:
            layer = _instantiate(layer_spec, f"model.layers.{i}")
            layers[i] = {"type": layer_spec["type"], **layer.config,
                         **normalize_flags(layer_spec, f"model.layers.{i}"),
                         **({"weights": layer_spec["weights"]} if "weights" in layer_spec else {})}
        except SpecError as e:
            problems.extend(e.problems)
    if not problems:
        problems.extend(flag_problems(layers))
    unknown = set(spec) - {"input_shape", "dtype", "layers", "loss"}
    problems.extend(Problem(f"model.{k}", "unknown key; allowed: input_shape, dtype, layers, loss") for k in sorted(unknown))
    if problems:
        raise SpecError(problems)
    return spec


def count_params(spec: dict) -> int:
    """Parameter count from shapes alone (no allocation), so limits are checked before building."""
    shape, total = tuple(spec["input_shape"]), 0
    for i, layer_spec in enumerate(spec["layers"]):
        layer = _instantiate(layer_spec, f"model.layers.{i}")
        try:
            out = layer.compute_output_shape(shape)
        except SpecError as e:
            raise SpecError([Problem(f"model.layers.{i}", p.message) for p in e.problems]) from None
        total += sum(math.prod(s) for s in layer.param_shapes(shape).values())
        shape = out
    return total


def build_model(spec: dict, seed: int = 0, rng: np.random.Generator | None = None,
                pipeline: InputPipeline | None = None, input_shape=None) -> Model:
    """Build and initialise a Model from a model spec. All randomness comes from `rng` (or `seed`)."""
    spec = normalize_model_spec(spec, input_shape)
    if spec.get("type") == "knn":
        from .knn import KNNModel
        return KNNModel(spec, pipeline)    # fitted by engine.train
    rng = rng if rng is not None else np.random.default_rng(seed)
    dtype = np.dtype(spec["dtype"])
    shape, layers = tuple(spec["input_shape"]), []
    for i, layer_spec in enumerate(spec["layers"]):
        path = f"model.layers.{i}"
        layer = _instantiate(layer_spec, path)
        try:
            shape = layer.build(shape, rng, dtype)
        except SpecError as e:
            raise SpecError([Problem(path if not p.path else f"{path}.{p.path}", p.message) for p in e.problems]) from None
        if "weights" in layer_spec:
            _explicit_weights(layer, layer_spec["weights"], f"{path}.weights")
        layers.append(layer)
    return Model(spec, layers, pipeline)


DAMAGED = "model file is damaged or not a readable NN Playground model file"
# what a model file may hold besides its parameters: batchnorm state, optimizer slots (adam: 2 per
# parameter), the input pipeline (pca_whiten: D x D), the JSON meta
FILE_BYTES_PER_PARAM = 8 * 4
FILE_EXTRA_BYTES = 64 * 1024 * 1024


def _damaged(reason: object) -> SpecError:
    return SpecError(f"{DAMAGED} ({reason}); train the job again or delete it", "model file")


def _read_meta(data) -> dict:
    meta = json.loads(str(data["meta_json"]))
    if not isinstance(meta, dict) or meta.get("format") != "nnplay-model" or not isinstance(meta.get("spec"), dict):
        raise ValueError("not an NN Playground model file")
    return meta


def _checked_spec(meta: dict, data, limits) -> dict:
    """The file's declared model spec, normalized and checked against `limits` from shapes alone, before
    anything is allocated (a file declaring a billion parameters is refused, not built)."""
    from .spec import _check_model_limits  # the one home of the network limits
    spec = normalize_model_spec(meta["spec"])
    problems: list[Problem] = []
    _check_model_limits(spec, limits, problems)
    if problems:
        raise SpecError([Problem("model file", f"declares a model the limits refuse: {p.path}: {p.message}")
                         for p in problems])
    stored = sum(info.file_size for info in data.zip.infolist())  # uncompressed sizes: no zip bomb either
    allowed = FILE_BYTES_PER_PARAM * count_params(spec) + FILE_EXTRA_BYTES
    if stored > allowed:
        raise ValueError(f"holds {stored:,} bytes of arrays, more than its model can use")
    missing = [key for key in _declared_params(spec) if f"param/{key}.npy" not in data.zip.namelist()]
    if missing:  # found before the network is built
        raise ValueError(f"weights missing for {', '.join(missing[:5])}")
    return spec


def _declared_params(spec: dict) -> list[str]:
    """The flat parameter keys ("{i}.W") a model spec builds, from shapes alone."""
    shape, keys = tuple(spec["input_shape"]), []
    for i, layer_spec in enumerate(spec["layers"]):
        layer = _instantiate(layer_spec, f"model.layers.{i}")
        out = layer.compute_output_shape(shape)  # first: a conv layer reads its geometry here
        keys += [f"{i}.{k}" for k in layer.param_shapes(shape)]
        shape = out
    return keys


def layer_param_shapes(spec: dict) -> list[dict[str, tuple]]:
    """Per layer of a normalized model spec, its parameter shapes ({"W": (784, 32), "b": (32,)}), from shapes alone."""
    return [params for _, params in _layer_shapes(spec)]


def layer_output_shapes(spec: dict) -> list[tuple]:
    """Per layer of a normalized model spec, its per-sample output shape, from shapes alone."""
    return [out for out, _ in _layer_shapes(spec)]


def _layer_shapes(spec: dict) -> list[tuple[tuple, dict[str, tuple]]]:
    shape, out = tuple(spec["input_shape"]), []
    for i, layer_spec in enumerate(spec["layers"]):
        layer = _instantiate(layer_spec, f"model.layers.{i}")
        next_shape = tuple(layer.compute_output_shape(shape))
        out.append((next_shape, {k: tuple(v) for k, v in layer.param_shapes(shape).items()}))
        shape = next_shape
    return out


def load_model(path: str | os.PathLike, limits=None) -> Model:
    """Load a model saved by Model.save. Never unpickles.

    The declared architecture is checked against `limits` (default engine.DEFAULT_LIMITS) before it is
    built. Anything unreadable (empty, truncated, random bytes, wrong arrays) raises SpecError at
    "model file" saying the model file is damaged; a missing file raises FileNotFoundError.
    """
    from .limits import DEFAULT_LIMITS
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = _read_meta(data)
            if meta["spec"].get("type") == "knn":
                from .knn import knn_from_file
                return knn_from_file(meta, data, limits or DEFAULT_LIMITS)
            spec = _checked_spec(meta, data, limits or DEFAULT_LIMITS)
            arrays = {k: data[k] for k in data.files if k != "meta_json"}
        return _model_from_file(spec, meta, arrays)
    except (FileNotFoundError, MemoryError):
        raise
    except SpecError as e:
        if any(p.path == "model file" for p in e.problems):
            raise
        raise _damaged("; ".join(f"{p.path}: {p.message}" for p in e.problems)) from None
    except Exception as e:  # noqa: BLE001  zipfile.BadZipFile, EOFError, zlib.error, ValueError, KeyError...
        raise _damaged(f"{type(e).__name__}: {e}") from None


def _model_from_file(spec: dict, meta: dict, arrays: dict[str, np.ndarray]) -> Model:
    pipe_arrays = {k[len("pipeline/"):]: v for k, v in arrays.items() if k.startswith("pipeline/")}
    model = build_model(spec, seed=0, pipeline=InputPipeline.from_saved(meta.get("pipeline"), pipe_arrays))
    weights = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(("param/", "state/"))}
    missing = sorted((set(model.params) | set(model.state)) - set(weights))
    if missing:
        raise ValueError(f"weights missing for {', '.join(missing[:5])}")
    model.set_weights(weights)
    if meta.get("optimizer"):
        slots: dict[str, dict[str, np.ndarray]] = {}
        for k, v in arrays.items():
            if k.startswith("optimizer/"):
                key, slot = k[len("optimizer/"):].rsplit("/", 1)
                slots.setdefault(key, {})[slot] = v
        model.optimizer_state = {**meta["optimizer"], "slots": slots}
    model.task = meta.get("task", model.task)
    model.class_names = meta.get("class_names")
    return model
