"""Stand-in train functions for executor tests: no engine needed, behaviour chosen by the spec."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field


@dataclass
class FakeModel:
    epochs: int = 0

    def save(self, path):
        with open(path, "wb") as f:
            f.write(b"fake model %d" % self.epochs)


@dataclass
class FakeResult:
    model: FakeModel
    history: list = field(default_factory=list)
    outcome: str = "completed"
    message: str = "done"
    best_epoch: int | None = None


def train(job_spec, on_event=None, should_stop=None, commands=None, on_model=None):
    """Epochs of `seconds` each; obeys pause/resume/step/cancel like the real trainer."""
    mode = job_spec.get("mode", "ok")
    if mode == "crash":
        os._exit(3)
    if mode == "raise":
        raise ValueError("bad data in fake spec")
    if mode == "threads":
        on_event({"type": "epoch", "epoch": 1, "threads": os.environ.get("OPENBLAS_NUM_THREADS")})
        return FakeResult(FakeModel(1), outcome="completed")
    model = FakeModel()
    paused = stepping = False
    for epoch in range(1, job_spec.get("epochs", 3) + 1):
        while True:
            for c in commands(0.25 if paused else 0):
                if c["cmd"] == "cancel":
                    return FakeResult(model, outcome="stopped", message="stopped by request")
                paused = c["cmd"] == "pause" or (paused and c["cmd"] not in ("resume", "step"))
                stepping = c["cmd"] == "step"
            if not paused or stepping:
                break
        if mode == "stuck" and epoch == 2:
            while True:  # ignores commands, like a job stuck inside numpy
                time.sleep(0.05)
        time.sleep(job_spec.get("seconds", 0.0))
        model.epochs = epoch
        on_event({"type": "epoch", "epoch": epoch, "train_loss": 1.0 / epoch})
        on_event({"type": "boundary", "epoch": epoch})
        if stepping:
            paused, stepping = True, False
    return FakeResult(model, outcome="completed", message=f"{model.epochs} epochs", best_epoch=model.epochs)
