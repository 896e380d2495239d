"""The body of a job's worker process: runs engine.train and talks to the server through two queues.

Messages to the server (events queue) are tuples (kind, payload):
  ("event", trainer_event_dict)             every trainer event, unchanged
  ("result", {"outcome", "message", "best_epoch", "model_path"})
  ("error", {"message"})                    the spec/data was bad or train raised
Commands from the server (commands queue) are the trainer's command dicts.

Nothing heavy is imported at module level: BLAS thread variables must be set before numpy loads.
"""
from __future__ import annotations

import errno
import os
import queue
import time
import traceback

from .threads import THREADS_COMMAND, set_blas_threads

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


WORKER_NICENESS = 10


def set_thread_env(threads: int) -> None:
    for var in THREAD_VARS:
        os.environ[var] = str(threads)


def load_function(path: str):
    """'package.module:function' -> the function (the train hook is configurable for fault tests)."""
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class CommandReader:
    """The trainer's `commands(timeout)`: reads the command queue; cancels itself if the server died."""

    def __init__(self, commands, parent_pid: int):
        self.commands = commands
        self.parent_pid = parent_pid
        self.orphaned = False

    def __call__(self, timeout: float = 0.0) -> list[dict]:
        if os.getppid() != self.parent_pid:
            self.orphaned = True
            return [{"cmd": "cancel"}]
        out = []
        try:
            out.append(self.commands.get(timeout=timeout) if timeout > 0 else self.commands.get_nowait())
            while True:
                out.append(self.commands.get_nowait())
        except (queue.Empty, OSError, EOFError):
            pass
        return [c for c in out if not apply_thread_command(c)]


def apply_thread_command(command: dict) -> bool:
    """The executor's thread-policy command (server/jobs/threads.py): applied here, not passed to the trainer."""
    if not (isinstance(command, dict) and command.get("cmd") == THREADS_COMMAND):
        return False
    threads = int(command["threads"])
    set_thread_env(threads)            # for anything that reads the environment later
    set_blas_threads(threads)          # the OpenBLAS already loaded
    return True


class ModelSaveError(Exception):
    """The model file could not be written; the message says why in plain words."""


def save_problem(error: OSError, path: str) -> str:
    """A plain-language reason a model file could not be written (a disk full is the usual one)."""
    folder = os.path.dirname(os.path.abspath(path))
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"could not save the model file: the disk is full (free some space in {folder} "
                f"and train again)")
    return f"could not save the model file in {folder}: {error.strerror or error}"


class Checkpointer:
    """Saves the model being trained at most every `seconds`, after an epoch event (Model.save is atomic:
    a reader never sees half a file, and a failed save leaves the previous checkpoint as it was).

    A periodic save that fails (disk full) does not stop a job that can still finish: the checkpoint
    is skipped, `warn` is called once with the reason (a recoverable error event), and the next period
    tries again. Only the final save decides whether the job has a model (see run_job)."""

    def __init__(self, path: str, seconds: float, warn=None):
        self.path, self.seconds = path, seconds
        self.warn = warn
        self.warned = False
        self.model = None
        self.last = time.monotonic()

    def watch(self, model) -> None:
        self.model = model

    def maybe_save(self) -> None:
        if self.model is None or time.monotonic() - self.last < self.seconds:
            return
        try:
            self.model.save(self.path)
        except OSError as e:
            if self.warn is not None and not self.warned:
                self.warn(f"checkpoint skipped, training goes on: {save_problem(e, self.path)}")
                self.warned = True
        self.last = time.monotonic()


def save_final(model, path: str) -> None:
    """The finished model's file; ModelSaveError (a plain message) when it cannot be written."""
    try:
        model.save(path)
    except OSError as e:
        raise ModelSaveError(save_problem(e, path)) from None


def run_job(job_id: str, spec: dict, model_path: str, events, commands, threads: int = 1,
            train_path: str = "engine:train", checkpoint_seconds: float = 2.0, parent_pid: int | None = None,
            init_from: str | None = None, limits=None):
    """Process entry point. Never raises: every failure becomes an ("error", ...) message."""
    set_thread_env(threads)
    try:  # training yields the CPU to the web server: the API stays responsive while jobs run
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    reader = CommandReader(commands, parent_pid or os.getppid())
    try:
        train = load_function(train_path)
        def warn(message: str) -> None:
            events.put(("event", {"type": "error", "recoverable": True, "message": message}))

        checkpointer = Checkpointer(model_path, checkpoint_seconds, warn)

        def on_event(event: dict) -> None:
            events.put(("event", event))
            if event.get("type") == "epoch":
                checkpointer.maybe_save()

        # the spec is the one the API validated and stored, under the server's limits: train it as is
        options = {"normalized": True}
        if init_from is not None:
            options["init_from"] = init_from
        if limits is not None:
            options["limits"] = limits
        result = train(spec, on_event=on_event, commands=reader, on_model=checkpointer.watch, **options)
        if reader.orphaned:
            events.cancel_join_thread()
            return
        save_final(result.model, model_path)
        events.put(("result", {"outcome": result.outcome, "message": result.message,
                               "best_epoch": getattr(result, "best_epoch", None), "model_path": model_path}))
    except ModelSaveError as e:
        events.put(("error", {"message": str(e)}))
    except MemoryError:
        events.put(("error", {"message": "out of memory while training: make the model, batch or dataset smaller"}))
    except Exception as e:  # noqa: BLE001  the worker reports every failure to the server
        message = str(e) if type(e).__name__ in ("SpecError", "DataError", "UnknownNameError") \
            else f"{type(e).__name__}: {e}"
        traceback.print_exc()
        events.put(("error", {"message": message}))
