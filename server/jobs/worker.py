"""The body of a job's worker process: runs engine.train and talks to the server through two queues.

`train_job` is the part every executor shares (process, thread, Ray task): train, checkpoint, save.
`run_job` is LocalProcessExecutor's process entry; its messages to the server (events queue) are tuples
(kind, payload), private to that executor, which turns them into messages.Event / Finished / Failed:
  ("event", trainer_event_dict)             every trainer event, unchanged
  ("result", {"outcome", "message", "best_epoch"})
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

from .threads import THREADS_COMMAND, apply_job_threads

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

    def __init__(self, commands, parent_pid: int | None = None):
        self.commands = commands  # a multiprocessing or queue.Queue
        self.parent_pid = parent_pid  # None: no parent to watch (a thread of the server)
        self.orphaned = False

    def __call__(self, timeout: float = 0.0) -> list[dict]:
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
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
    apply_job_threads(int(command["threads"]))   # the engine's batch split, between two batches
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

    def __init__(self, path: str, seconds: float, warn=None, save=None):
        """`save(model, path)`: how a model is stored (default Model.save: a file on this machine)."""
        self.path, self.seconds = path, seconds
        self.save = save or (lambda model, path: model.save(path))
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
            self.save(self.model, self.path)
        except OSError as e:
            if self.warn is not None and not self.warned:
                self.warn(f"checkpoint skipped, training goes on: {save_problem(e, self.path)}")
                self.warned = True
        self.last = time.monotonic()


def save_final(model, path: str, save=None) -> None:
    """The finished model's file; ModelSaveError (a plain message) when it cannot be written."""
    try:
        (save or (lambda model, path: model.save(path)))(model, path)
    except OSError as e:
        raise ModelSaveError(save_problem(e, path)) from None


def error_message(e: BaseException) -> str:
    """What a job that raised `e` reports: the engine's own errors as they are, anything else with its type."""
    if isinstance(e, ModelSaveError):
        return str(e)
    if isinstance(e, MemoryError):
        return "out of memory while training: make the model, batch or dataset smaller"
    if type(e).__name__ in ("SpecError", "DataError", "UnknownNameError"):
        return str(e)
    return f"{type(e).__name__}: {e}"


def init_option(path: str, layers: list[int] | None = None):
    """engine.train's `init_from`: a model file on this machine, or {"path", "layers"} for those layers only."""
    return path if layers is None else {"path": path, "layers": layers}


def train_job(spec: dict, train, on_event, commands, model_path: str, checkpoint_seconds: float = 2.0,
              init_from=None, limits=None, save=None) -> dict:
    """Train the normalized `spec` with `train` (engine.train's signature) wherever the worker runs.

    `on_event(dict)` gets every trainer event (and a recoverable error when a checkpoint is skipped);
    `commands(timeout)` is the trainer's command source; the model is saved to `model_path` on this machine
    (`save(model, path)`, default Model.save): a checkpoint at most every `checkpoint_seconds`, after an epoch
    event, and the final one; `init_from`: engine.train's (init_option: a model file on this machine). Returns the result
    payload {"outcome", "message", "best_epoch"}; raises what train raises, ModelSaveError for the final save.
    """
    def warn(message: str) -> None:
        on_event({"type": "error", "recoverable": True, "message": message})

    checkpointer = Checkpointer(model_path, checkpoint_seconds, warn, save)

    def event(e: dict) -> None:
        on_event(e)
        if e.get("type") == "epoch":
            checkpointer.maybe_save()

    # the spec is the one the API validated and stored, under the server's limits: train it as is
    options = {"normalized": True}
    if init_from is not None:
        options["init_from"] = init_from
    if limits is not None:
        options["limits"] = limits
    result = train(spec, on_event=event, commands=commands, on_model=checkpointer.watch, **options)
    if getattr(commands, "orphaned", False):
        return {"outcome": "stopped", "message": "the server went away", "best_epoch": None}
    save_final(result.model, model_path, save)
    return {"outcome": result.outcome, "message": result.message, "best_epoch": getattr(result, "best_epoch", None)}


def run_job(job_id: str, spec: dict, model_path: str, events, commands, threads: int = 1,
            train_path: str = "engine:train", checkpoint_seconds: float = 2.0, parent_pid: int | None = None,
            init_from: str | None = None, limits=None):
    """Process entry point (LocalProcessExecutor). Never raises: every failure becomes an ("error", ...)
    message; the model is saved to `model_path`, the local artifact store's file for this job."""
    set_thread_env(1)                  # one BLAS thread per block of the batch (server/jobs/threads.py)
    try:  # training yields the CPU to the web server: the API stays responsive while jobs run
        # at least WORKER_NICENESS, never more than the executor set meanwhile (the pooled executor puts heavy
        # jobs at 15: an increment here made that 19 when it landed first, a quarter of the share meant)
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), WORKER_NICENESS))
    except OSError:
        pass
    apply_job_threads(threads)         # the job's threads: the engine's batch split
    reader = CommandReader(commands, parent_pid or os.getppid())
    try:
        train = load_function(train_path)
        result = train_job(spec, train, lambda e: events.put(("event", e)), reader, model_path,
                           checkpoint_seconds, init_from, limits)
        if reader.orphaned:
            events.cancel_join_thread()
            return
        events.put(("result", result))
    except Exception as e:  # noqa: BLE001  the worker reports every failure to the server
        if not isinstance(e, ModelSaveError):
            traceback.print_exc()
        events.put(("error", {"message": error_message(e)}))
