"""train(job_spec): the training loop. Emits JSON-ready event dicts; never knows who listens."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .control import Control, Interrupted
from .cost import TRAIN_FACTOR, forward_flops
from .datasets.base import validation_count
from .metrics import evaluate, score, score_name
from .model import Model, build_model
from .optimizers import make_optimizer
from .pipeline import InputPipeline
from .probes import Probes
from .flat import FLAT_KEY, FlatParams
from .fused_step import FusedDenseStep
from .regularization import add_flat_penalty_grads, apply_max_norm, flat_penalty
from .schedules import make_schedule
from .spec import DEFAULT_LIMITS, Limits, normalize
from .stopping import EarlyStopping, NotLearning

OUTCOMES = ("completed", "stopped", "early_stopped", "diverged")
INTERRUPT_BATCH_FLOPS = 20_000_000   # ~ a few ms of NumPy: from here on, a batch checks for a cancel between layers
# a training set up to this size is permuted once per epoch and its batches are slices (views): one copy of it
# per epoch instead of two fancy-indexing calls per batch; a larger one (MNIST: 71 MB) would double its memory
PERMUTE_ONCE_BYTES = 4 << 20


@dataclass
class TrainResult:
    model: Model
    history: list[dict] = field(default_factory=list)
    outcome: str = "completed"
    message: str = ""
    best_epoch: int | None = None
    dataset: dict | None = None   # Dataset.summary()


@dataclass
class Split:
    x: np.ndarray
    y: np.ndarray


def _splits(ds, pipeline: InputPipeline, validation_split: float, dtype) -> dict[str, Split]:
    """Fit the pipeline on train and return preprocessed train / val / test splits."""
    x_train, y_train, x_val, y_val = ds.x_train, ds.y_train, ds.x_val, ds.y_val
    if validation_split and x_val is None:
        n_val = validation_count(len(x_train), validation_split)   # the rule validation checked
        x_train, x_val, y_train, y_val = x_train[:-n_val], x_train[-n_val:], y_train[:-n_val], y_train[-n_val:]
    pipeline.fit(x_train)
    splits = {"train": Split(x_train, y_train), "val": Split(x_val, y_val), "test": Split(ds.x_test, ds.y_test)}
    out = {name: Split(pipeline.preprocess(s.x).astype(dtype, copy=False), s.y)
           for name, s in splits.items() if s.x is not None and len(s.x)}
    out["raw_train"] = splits["train"]  # augmentation works on raw images, before preprocessing
    return out


class Trainer:
    def __init__(self, job_spec: dict, on_event=None, should_stop=None, commands=None,
                 limits: Limits = DEFAULT_LIMITS, init_from=None, normalized: bool = False):
        from .datasets import load_dataset
        # normalized=True: the caller validated it (the server, under its own limits); train it as is
        self.spec = job_spec if normalized else normalize(job_spec, limits)
        self.emit = on_event or (lambda event: None)
        t = self.spec["training"]
        self.rng = np.random.default_rng(t["seed"])  # one generator: init, dropout, shuffling, augmentation
        self.ds = load_dataset(self.spec["dataset"])
        self.task = self.ds.task
        model_spec = {**self.spec["model"], "input_shape": self.spec["model"].get("input_shape")
                      or list(self.ds.input_shape)}
        pipeline = InputPipeline(self.ds.features, self.spec["dataset"].get("preprocessing"))
        self.model = build_model(model_spec, rng=self.rng, pipeline=pipeline)
        self.model.task, self.model.class_names = self.ds.task, self.ds.class_names
        self.splits = _splits(self.ds, pipeline, t["validation_split"], self.model.dtype)
        self.n_train = len(self.splits["train"].x)
        self.batch_size = min(t["batch_size"] or self.n_train, self.n_train)
        self.steps_per_epoch = math.ceil(self.n_train / self.batch_size)
        # one contiguous parameter vector: the optimizer and the penalty touch one array per step
        self.flat = self.model.flat = FlatParams(self.model)
        self.flat_params, self.flat_grads = {FLAT_KEY: self.flat.params}, {FLAT_KEY: self.flat.grads}
        self.optimizer = make_optimizer(t["optimizer"])
        # clipnorm is per weight array (Keras) although the optimizer steps one flat vector
        self.optimizer.segments = {FLAT_KEY: np.array([s.start for s in self.flat.slices.values()], dtype=np.intp)}
        self.model.optimizer = self.optimizer          # saved with the model, so a run can be continued
        if init_from is not None:
            from .resume import start_from
            start_from(init_from, self.model, self.optimizer)
            self.flat.hold()
        # epochs null: until paused or cancelled, at most the epoch limit
        self.epochs = t["epochs"] or limits.max_epochs
        self.schedule = make_schedule(t["lr_schedule"], self.epochs * self.steps_per_epoch)
        self.reg = t["regularization"]
        self.control = Control(self.optimizer.learning_rate, self.emit, commands, should_stop,
                               on_change=self._take_changes)
        es = t["early_stopping"]
        self.early = EarlyStopping(**es) if es else None
        self.probes = Probes(self.model, self.ds, self.spec["stream"])
        self.iteration = 0
        # the training rows' targets, made once (one-hot for K > 1 classes): a batch takes rows of it
        train = self.splits["train"]
        self.train_targets = self.model.loss.targets(
            train.y, np.empty((len(train.y), self.model.output_shape[-1]), self.model.dtype))   # (N, K)
        # a cancel between two layers is worth its check only when a batch takes long (a conv net's);
        # a tiny network's batch is a few microseconds, so it is checked between batches only
        per_batch = forward_flops(model_spec) * self.batch_size * TRAIN_FACTOR
        self.interrupt_layers = per_batch >= INTERRUPT_BATCH_FLOPS
        # a small dense network's step without the layers' Python frames: the same arithmetic, same bits
        self.fused = (FusedDenseStep(self.model) if not self.interrupt_layers and FusedDenseStep.fits(self.model)
                      else None)

    # one optimizer step; returns the data loss and the batch outputs
    def _step(self, xb: np.ndarray, yb: np.ndarray | None = None,
              targets: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """`yb`: the batch's labels, or `targets`: its rows of `train_targets` (one-hot for K > 1 classes)."""
        if self.fused is not None and targets is not None and not self.fused.splits(len(xb)):
            loss, out = self.fused(xb, targets)       # writes straight into the flat gradient buffer
        else:
            loss, out = self.model.loss_and_backward(xb, yb, targets=targets)
            self.flat.sync_grads()         # layers that return fresh gradient arrays are copied into the buffer
        reg, frozen = self.reg, self.flat.frozen
        if frozen or reg["l1"] or reg["l2"]:   # (checked here: a tiny network's whole step is ~20 us)
            loss += self._penalty_and_grads()
        self.optimizer.learning_rate = self.schedule(self.control.learning_rate, self.iteration)
        self.optimizer.step(self.flat_params, self.flat_grads)
        if reg["max_norm"]:
            apply_max_norm(self.model.params, reg["max_norm"])
        if frozen:                         # "trainable": false layers end bit-identical
            self.flat.restore_frozen()
        self.iteration += 1
        return loss, out

    def _penalty_and_grads(self) -> float:
        """The L1/L2 term for the loss, and its gradient added to the kernels' (one slice of the flat buffer)."""
        l1, l2 = self.reg["l1"], self.reg["l2"]
        if self.flat.frozen:               # frozen layers show (and take) no gradient
            self.flat.zero_frozen_grads()
        if not (l1 or l2):
            return 0.0
        add_flat_penalty_grads(self.flat.kernels, self.flat.kernel_grads, l1, l2)
        if self.flat.frozen:
            self.flat.zero_frozen_grads()
        return flat_penalty(self.flat.kernels, l1, l2)

    def _starting_gradients(self) -> float:
        """Fill model.grads with the gradient at the starting weights on the first batch, changing nothing
        (random state and batchnorm statistics are put back): the epoch-0 frames then show where training
        starts, not zeros. Returns that batch's loss, the untrained network's loss."""
        rng_state, saved = self.rng.bit_generator.state, self.model.get_weights()
        idx = np.arange(self.batch_size)
        loss, _ = self.model.loss_and_backward(self._batch_inputs(idx), targets=self.train_targets[idx])
        self.flat.sync_grads()
        loss += self._penalty_and_grads()
        self.model.set_weights(saved)
        self.rng.bit_generator.state = rng_state
        return loss

    def _take_changes(self) -> None:
        """Apply the commands that change the run (Control.changes, Control.weight_edits) between batches.

        The batch size takes effect from the next epoch; a weight edit outside the model is reported as a
        recoverable error naming the key, and applied edits re-send the frames so the views follow."""
        changes, edits = self.control.changes, self.control.weight_edits
        self.control.changes, self.control.weight_edits = {}, []
        for name in ("l1", "l2"):
            if name in changes:
                self.reg = {**self.reg, name: changes[name]}
        if "batch_size" in changes:
            self.batch_size = min(changes["batch_size"], self.n_train)
            self.steps_per_epoch = math.ceil(self.n_train / self.batch_size)
        if "max_epochs_per_second" in changes:
            self.spec["stream"]["max_epochs_per_second"] = changes["max_epochs_per_second"]
        applied = []
        for key, index, value in edits:
            target = self.model.params.get(key)
            if target is None or len(index) != target.ndim or any(i >= n for i, n in zip(index, target.shape)):
                where = "no such key" if target is None else f"shape {list(target.shape)}"
                self.emit({"type": "error", "recoverable": True, "epoch": self.control.epoch,
                           "message": f"set_weight: {key}{list(index)} is not in the model ({where})"})
                continue
            target[index] = value          # the layer's own array (a view of the flat buffer): training goes on from it
            applied.append({"key": key, "index": list(index), "value": float(target[index])})
        if applied:
            self.flat.hold()               # an edit of a frozen layer is kept, not undone by the next step
            self.emit({"type": "weights_set", "epoch": self.control.epoch, "edits": applied})
            self.probes.emit(self.emit, self.control.epoch, force=True)

    def _batch_inputs(self, idx: np.ndarray) -> np.ndarray:
        aug = self.spec["training"]["augmentation"]
        if not aug:
            return self.splits["train"].x[idx]
        from .augment import augment_images
        # shift/rotate the raw images so the uncovered border is background, then preprocess
        xb = augment_images(self.splits["raw_train"].x[idx], self.rng, **aug)
        return self.model.pipeline.preprocess(xb).astype(self.model.dtype, copy=False)

    def _run_epoch(self, epoch: int) -> dict | str:
        """Train one epoch. Returns the epoch record, or "stopped" / "diverged"."""
        train = self.splits["train"]
        start = time.perf_counter()
        order = self.rng.permutation(self.n_train)
        loss_sum, outs = 0.0, []
        size = self.batch_size          # a `set` of the batch size lands between epochs
        targets = self.train_targets
        batches = math.ceil(self.n_train / size)
        # a small set without augmentation: permuted once, batches are slices of it (the same rows, same bits)
        whole = not self.spec["training"]["augmentation"] and train.x.nbytes <= PERMUTE_ONCE_BYTES
        if whole:
            x_epoch, t_epoch = train.x[order], targets[order]              # (N, ...), (N, K)
        for b in range(batches):
            if self.control.check():
                return "stopped"
            rows = slice(b * size, (b + 1) * size)
            if whole:
                xb, tb = x_epoch[rows], t_epoch[rows]
            else:
                idx = order[rows]
                xb, tb = self._batch_inputs(idx), targets[idx]
            loss, out = self._step(xb, targets=tb)
            if not math.isfinite(loss):
                self.diverged_loss = loss
                return "diverged"
            if self.control.end_batch():   # step_batch: show the network after this one step
                self.probes.emit(self.emit, epoch - 1, force=True)
                # where the step landed inside the epoch under way (epoch: the epochs done, as the frames say)
                self.emit({"type": "batch", "epoch": epoch - 1, "batch": b + 1, "batches": batches})
            loss_sum += loss * len(xb)
            outs.append(out)               # (batch, K): labels / R^2 once per epoch, not per batch
        seconds = time.perf_counter() - start
        record = {"epoch": epoch, "train_loss": loss_sum / self.n_train}
        # the outputs each batch had before its step, in the order the rows were trained
        record[f"train_{score_name(self.task)}"] = score(self.task, np.concatenate(outs), train.y[order], self.model.loss)
        for name in ("val", "test"):
            if name in self.splits:
                s = self.splits[name]
                loss, sc = evaluate(self.model, s.x, s.y, self.task)
                record[f"{name}_loss"], record[f"{name}_{score_name(self.task)}"] = loss, sc
        record.update(learning_rate=self.optimizer.learning_rate, seconds=time.perf_counter() - start,
                      examples_per_second=self.n_train / max(seconds, 1e-9))
        return record

    def _pace(self, started: float) -> None:
        """Sleep out the rest of the epoch's time slot when the stream asks for a watchable pace (< 1 s)."""
        cap = self.spec["stream"]["max_epochs_per_second"]
        if cap:
            remaining = started + 1.0 / cap - time.perf_counter()
            if remaining > 0:
                time.sleep(remaining)

    def _divergence_message(self, epoch: int) -> str:
        lr = self.optimizer.learning_rate
        return (f"training diverged at epoch {epoch}: the loss became {self.diverged_loss} "
                f"(NaN or infinite). The learning rate ({lr:g}) is probably too high for this network "
                f"and data; try {lr / 10:g}, or normalise the inputs.")

    def _frames(self, epoch: int, force: bool = False) -> None:
        """The epoch's frames; a cancel that lands during their forward pass (Control.interrupt) is kept in
        the control and stops the run at the next batch, instead of escaping as an error."""
        try:
            self.probes.emit(self.emit, epoch, force=force)
        except Interrupted:
            pass

    def run(self) -> TrainResult:
        # overflow on the way to divergence is reported as a `diverged` outcome, not as warnings
        if self.interrupt_layers:   # a cancel lands between two layers of a (long) batch
            self.model.between_layers = self.control.interrupt
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                return self._run()
        finally:
            self.model.between_layers = None  # the trained model no longer listens for this run's commands

    def _run(self) -> TrainResult:
        epochs = self.epochs
        result = TrainResult(self.model, dataset=self.ds.summary())
        try:
            stall = NotLearning(self._starting_gradients())
            self.probes.emit(self.emit, 0, force=True)
        except Interrupted:
            result.outcome, result.message = "stopped", "stopped before the first epoch"
            return result
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            try:
                record = self._run_epoch(epoch)
            except Interrupted:  # mid-batch: the half-done step never reached the optimizer
                record = "stopped"
            if record in ("stopped", "diverged"):
                result.outcome = record
                result.message = (self._divergence_message(epoch) if record == "diverged"
                                  else f"stopped during epoch {epoch}")
                break
            result.history.append(record)
            self.emit({"type": "epoch", **record})
            self._frames(epoch, force=epoch == epochs)
            self.control.end_epoch(epoch)
            self._pace(started)
            if self.early and self.early.update(record, self.model):
                result.outcome, result.message = "early_stopped", self.early.message()
                self._frames(epoch, force=True)
                break
            if stall.update(record):   # ends like divergence: the loss went up and stayed up
                result.outcome, result.message = "diverged", stall.message(self.optimizer.learning_rate)
                self._frames(epoch, force=True)
                break
        # as Keras: the best weights come back only when early stopping ended the run
        if result.outcome == "early_stopped" and self.early.restore and self.early.best_weights is not None:
            self.model.set_weights(self.early.best_weights)
            result.best_epoch = self.early.best_epoch
        if result.outcome == "completed":
            result.message = f"completed {epochs} epochs"
        return result


def train(job_spec: dict, on_event: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          commands: Callable[[float], list] | None = None,
          on_model: Callable[[Model], None] | None = None, limits: Limits = DEFAULT_LIMITS,
          init_from=None, normalized: bool = False) -> TrainResult:
    """Train the model a job spec describes. See docs/DESIGN.md for the events and commands.

    `on_model(model)` is called once, before the first epoch, with the model being trained (the
    server keeps it to write checkpoints a running job can already predict with).
    `limits` are the caps the spec is checked against (and the epoch cap when `training.epochs` is null).
    `init_from` (a model file path) starts from that run's weights and optimizer state (engine/resume.py).
    `normalized=True`: `job_spec` is already the output of `normalize` (under the caller's limits) and
    is trained as is, without normalizing it again with the default limits.
    """
    spec = job_spec if normalized else normalize(job_spec, limits)
    if spec["model"].get("type") == "knn":
        from .knn import fit_knn
        return fit_knn(spec, on_event, on_model)   # no epochs: k-NN stores the training set
    trainer = Trainer(spec, on_event, should_stop, commands, limits, init_from, normalized=True)
    if on_model is not None:
        on_model(trainer.model)
    return trainer.run()
