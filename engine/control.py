"""Run-time control of a training run: the commands (pause / resume / step / step_batch / cancel / set /
set_weight) and Control.

COMMANDS is the one registry of commands; each entry lists its options as Params (`set` reuses the
optimizers' `learning_rate` Param, the penalties', the batch size's and the stream pace's, so each range is
defined once). `check_command` is the one check: the REST route, the WebSocket handler, the job manager and
Control itself all call it. An entry registered with `any_of=True` takes any non-empty subset of its options.

Changes the trainer applies (`set`'s other options, `set_weight`) wait in `Control.changes` /
`Control.weight_edits` until `on_change()` (the trainer's) takes them, between batches or while paused.

`commands(timeout)` (from the caller) returns pending command dicts, waiting up to `timeout`
seconds when there are none. `should_stop()` is an extra cancel flag. Both are polled between batches.
"""
from __future__ import annotations

import time
from typing import Callable

from .errors import Problem, SpecError
from .optimizers import LR
from .params import Param
from .registry import Registry
from .regularization import REGULARIZATION_OPTIONS
from .spec import STREAM_OPTIONS, TRAINING_OPTIONS

PAUSE_POLL_SECONDS = 0.25
INTERRUPT_POLL_SECONDS = 0.05  # between layers: how often a batch looks for a cancel (a queue read costs ~10 us)


class Interrupted(Exception):
    """Raised between two layers of a batch when a cancel arrived; the trainer ends the run as stopped."""

COMMANDS = Registry("command")  # entry(control, checked_command) applies it; entry.options are its Params


@COMMANDS.register("pause", doc="stop between batches until resume or step")
def _pause(control: "Control", cmd: dict) -> None:
    control.set_paused(True)


@COMMANDS.register("resume", doc="run on")
def _resume(control: "Control", cmd: dict) -> None:
    control.steps_left = None
    control.set_paused(False)


@COMMANDS.register("step", doc="train one more epoch, then pause")
def _step(control: "Control", cmd: dict) -> None:
    control.steps_left = 1
    control.set_paused(False)


@COMMANDS.register("step_batch", doc="train one more batch (one optimizer step), then pause")
def _step_batch(control: "Control", cmd: dict) -> None:
    control.steps_left = None
    control.batches_left = 1
    control.set_paused(False)


@COMMANDS.register("cancel", doc="stop training; the model keeps the weights it has")
def _cancel(control: "Control", cmd: dict) -> None:
    control.stopped = True


def _option(options: list[Param], name: str) -> Param:
    return next(p for p in options if p.name == name)


# what `set` changes besides the learning rate; each Param is the spec's own (one range). A null batch size
# or pace means "unchanged" here: the full batch is any size >= the training set, full speed the pace's max
SET_OPTIONS = [_option(REGULARIZATION_OPTIONS, "l1"), _option(REGULARIZATION_OPTIONS, "l2"),
               _option(TRAINING_OPTIONS, "batch_size"), _option(STREAM_OPTIONS, "max_epochs_per_second")]


@COMMANDS.register("set", doc="change the base learning rate (the schedule still scales it), the L1 / L2 rates, "
                   "the batch size (from the next epoch) or the pace (epochs per second); any of them",
                   params=[LR, *SET_OPTIONS], any_of=True)
def _set(control: "Control", cmd: dict) -> None:
    if "learning_rate" in cmd:
        control.learning_rate = cmd["learning_rate"]
        control.emit({"type": "learning_rate", "epoch": control.epoch, "learning_rate": control.learning_rate})
    control.changes.update({p.name: cmd[p.name] for p in SET_OPTIONS if p.name in cmd})


@COMMANDS.register("set_weight", doc='set one weight: key "0.W" (layer 0\'s kernel, (n_in, n_out)) or "0.b", '
                   "index [i, j] ([j] for a bias), value", params=[
                       Param("key", "str", help='a parameter key of the model: "{layer}.W" or "{layer}.b"'),
                       Param("index", "int_list", min=0, help="the element's index, one number per axis"),
                       Param("value", "float", min=-1e6, max=1e6, help="the new value")])
def _set_weight(control: "Control", cmd: dict) -> None:
    control.weight_edits.append((cmd["key"], tuple(cmd["index"]), cmd["value"]))


def check_command(command: object) -> dict:
    """`{"cmd": name, **options}` checked against COMMANDS; returns it with numbers coerced.

    Raises SpecError naming the field: `cmd` for a missing or unknown command, else the option's name.
    """
    if not isinstance(command, dict):
        raise SpecError(f'must be an object {{"cmd": one of {", ".join(COMMANDS.names())}}}; got {command!r}',
                        "cmd")
    name = command.get("cmd")
    if not isinstance(name, str) or name not in COMMANDS:
        raise SpecError(f"must be one of {', '.join(COMMANDS.names())}; got {name!r}", "cmd")
    entry = COMMANDS.get(name)
    known = [p.name for p in entry.options]
    problems = [Problem(key, f"unknown option for {name}; allowed: {', '.join(known) or 'none'}")
                for key in command if key != "cmd" and key not in known]
    out = {"cmd": name}
    any_of = getattr(entry, "any_of", False)
    if any_of and all(command.get(p.name) is None for p in entry.options):
        problems.append(Problem(entry.options[0].name, f"{name} needs at least one of "
                                f"{', '.join(p.name for p in entry.options)}"))
    for p in entry.options:
        if command.get(p.name) is None:
            if not any_of:
                problems.append(Problem(p.name, f"is required for {name} ({p.kind})"))
            continue
        try:
            out[p.name] = p.check(command[p.name], p.name)
        except SpecError as e:
            problems.extend(e.problems)
    if problems:
        raise SpecError(problems)
    return out


class Control:
    def __init__(self, learning_rate: float, emit: Callable[[dict], None],
                 commands: Callable[[float], list] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_change: Callable[[], None] | None = None):
        self.learning_rate = learning_rate   # base rate; the schedule scales it
        self.on_change = on_change           # the trainer's: takes `changes` and `weight_edits`
        self.changes: dict = {}              # set's l1 / l2 / batch_size / max_epochs_per_second
        self.weight_edits: list = []         # [(key, index tuple, value)] from set_weight
        self.batches_left: int | None = None  # batches to run before pausing again ("step_batch")
        self.emit = emit
        self.commands = commands
        self.should_stop = should_stop
        self.paused = False
        self.steps_left: int | None = None   # epochs to run before pausing again ("step")
        self.stopped = False
        self.epoch = 0
        self.pending: list = []              # commands read between layers, applied at the next check()
        self._next_poll = 0.0

    def _apply(self, command: object) -> None:
        """Run one command; a malformed one raises SpecError (the server checks them before they get here)."""
        command = check_command(command)
        COMMANDS.get(command["cmd"])(self, command)

    def set_paused(self, paused: bool) -> None:
        """Pause or run on; says so with a {"type": "status"} event, which the server's status follows."""
        if paused != self.paused:
            self.paused = paused
            self.emit({"type": "status", "status": "paused" if paused else "running", "epoch": self.epoch})

    def interrupt(self) -> None:
        """The cheap check between layers of a batch: at most every INTERRUPT_POLL_SECONDS, read the
        commands without applying them (pause, set... wait for the batch's end); raise Interrupted on a cancel."""
        now = time.monotonic()
        if now < self._next_poll:
            return
        self._next_poll = now + INTERRUPT_POLL_SECONDS
        if self.commands is not None:
            self.pending.extend(self.commands(0.0))
        # should_stop() stays a between-batches flag (its callers count calls); the server cancels by command
        if any(isinstance(c, dict) and c.get("cmd") == "cancel" for c in self.pending):
            self.stopped = True
            raise Interrupted

    def check(self) -> bool:
        """Apply pending commands; block while paused. True means stop training now."""
        pending, self.pending = self.pending, []
        for command in pending:
            self._apply(command)
        while True:
            if self.should_stop is not None and self.should_stop():
                self.stopped = True
            if self.commands is not None:
                for command in self.commands(PAUSE_POLL_SECONDS if self.paused else 0.0):
                    self._apply(command)
            if (self.changes or self.weight_edits) and self.on_change is not None:
                self.on_change()
            if self.stopped or not self.paused:
                return self.stopped

    def end_batch(self) -> bool:
        """After one optimizer step; True when a step_batch is done (the trainer then shows where it is)."""
        if self.batches_left is None:
            return False
        self.batches_left -= 1
        if self.batches_left > 0:
            return False
        self.batches_left = None
        self.set_paused(True)
        return True

    def end_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.steps_left is not None:
            self.steps_left -= 1
            if self.steps_left <= 0:
                self.steps_left = None
                self.set_paused(True)
