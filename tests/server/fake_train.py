"""Stand-in train functions for executor tests: no model or data, behaviour chosen by the spec."""
from __future__ import annotations

import os
import sys
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


def train(job_spec, on_event=None, should_stop=None, commands=None, on_model=None, **engine_options):
    """Epochs of `seconds` each; pause/resume/step/cancel through the engine's own Control, which
    reports pause and resume with {"type": "status"} events as the real trainer does."""
    from engine.control import Control

    mode = job_spec.get("mode", "ok")
    if mode == "crash":
        os._exit(3)
    if mode == "crash_thread":  # what a dying worker looks like to a thread: not an Exception
        raise SystemExit(3)
    if mode == "where":  # which process (and, in a Ray worker, which node) the job runs on, at what niceness
        on_event({"type": "where", "pid": os.getpid(), "node_id": _ray_node_id(),
                  "nice": os.getpriority(os.PRIO_PROCESS, 0)})
    if engine_options.get("init_from"):  # the model file it starts from, as the worker's machine sees it
        with open(engine_options["init_from"], "rb") as f:
            on_event({"type": "init", "content": f.read().decode()})
    if mode == "raise":
        raise ValueError("bad data in fake spec")
    if mode == "threads":
        from engine import parallel     # the job's threads are the engine's batch split; BLAS runs one per block
        on_event({"type": "epoch", "epoch": 1, "threads": str(parallel.threads()),
                  "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")})
        return FakeResult(FakeModel(1), outcome="completed")
    model = FakeModel()
    control = Control(0.01, on_event, commands, should_stop)
    for epoch in range(1, job_spec.get("epochs", 3) + 1):
        if control.check():
            return FakeResult(model, outcome="stopped", message="stopped by request")
        if mode == "stuck" and epoch == 2:
            # said before it stops listening: a cancel sent after this can only be forced (sent on epoch 1's
            # event it could still reach the command check above, under load, and end the job nicely)
            on_event({"type": "stuck", "epoch": epoch})
            deadline = time.monotonic() + 30  # bounded: a thread executor can only abandon it
            while time.monotonic() < deadline:  # ignores commands, like a job stuck inside numpy
                time.sleep(0.05)
        time.sleep(job_spec.get("seconds", 0.0))
        model.epochs = epoch
        on_event({"type": "epoch", "epoch": epoch, "train_loss": 1.0 / epoch,
                  "learning_rate": control.learning_rate})
        on_event({"type": "boundary", "epoch": epoch})
        control.end_epoch(epoch)
    return FakeResult(model, outcome="completed", message=f"{model.epochs} epochs", best_epoch=model.epochs)


def _ray_node_id() -> str | None:
    ray = sys.modules.get("ray")   # only a Ray worker (or a Ray driver) has it loaded
    if ray is None or not ray.is_initialized():
        return None
    return ray.get_runtime_context().get_node_id()
