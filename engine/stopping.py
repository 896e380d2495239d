"""When a run should end before its last epoch: early stopping (Keras semantics) and "not learning".

Each watcher sees every epoch record and says whether to stop; the trainer turns that into an
outcome and a message a learner can act on.
"""
from __future__ import annotations

import math

from .metrics import lower_is_better

NOT_LEARNING_EPOCHS = 50   # epochs in a row above the starting loss before we call it


class EarlyStopping:
    """Stop after exactly `patience` epochs without an improvement of at least `min_delta` (as Keras)."""

    def __init__(self, monitor: str, patience: int, min_delta: float, restore_best_weights: bool):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore = restore_best_weights
        self.sign = 1.0 if lower_is_better(monitor) else -1.0   # losses go down, scores go up
        self.best, self.best_epoch, self.best_weights, self.wait = math.inf, None, None, 0

    def update(self, record: dict, model) -> bool:
        """True when training should stop."""
        value = record.get(self.monitor)
        if value is None or not math.isfinite(value):
            return False
        if self.sign * value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = self.sign * value, record["epoch"], 0
            if self.restore:
                self.best_weights = model.get_weights()
            return False
        self.wait += 1
        return self.wait >= self.patience

    def message(self) -> str:
        return (f"{self.monitor} did not improve for {self.patience} epochs; best at epoch {self.best_epoch}")


class NotLearning:
    """A run that neither blows up to NaN nor learns: the training loss stays above the loss of the
    untrained network (measured on the first batch before any step) for NOT_LEARNING_EPOCHS epochs
    in a row. Adam at learning rate 10 on spiral does this: the loss jumps around 10-80, never NaN."""

    def __init__(self, start_loss: float, epochs: int = NOT_LEARNING_EPOCHS):
        self.start_loss, self.epochs = start_loss, epochs
        self.above = 0
        self.low, self.high = math.inf, -math.inf

    def update(self, record: dict) -> bool:
        loss = record["train_loss"]
        if not math.isfinite(self.start_loss) or loss <= self.start_loss:
            self.above, self.low, self.high = 0, math.inf, -math.inf
            return False
        self.above += 1
        self.low, self.high = min(self.low, loss), max(self.high, loss)
        return self.above >= self.epochs

    def message(self, learning_rate: float) -> str:
        return (f"training is not learning: for {self.epochs} epochs in a row the training loss stayed above "
                f"the untrained network's {self.start_loss:.4g} (it ranged {self.low:.4g} to {self.high:.4g}). "
                f"The learning rate ({learning_rate:g}) is probably too high: try {learning_rate / 10:g}; "
                "or the network cannot fit this data (a single layer cannot learn xor).")
