"""Run-time control of a training run: the commands (pause / resume / step / cancel / set) and Control.

COMMANDS is the one registry of commands; each entry lists its options as Params (`set` reuses the
optimizers' `learning_rate` Param, so its range is defined once). `check_command` is the one check: the
REST route, the WebSocket handler, the job manager and Control itself all call it.

`commands(timeout)` (from the caller) returns pending command dicts, waiting up to `timeout`
seconds when there are none. `should_stop()` is an extra cancel flag. Both are polled between batches.
"""
from __future__ import annotations

import time
from typing import Callable

from .errors import Problem, SpecError
from .optimizers import LR
from .registry import Registry

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


@COMMANDS.register("cancel", doc="stop training; the model keeps the weights it has")
def _cancel(control: "Control", cmd: dict) -> None:
    control.stopped = True


@COMMANDS.register("set", doc="change the base learning rate (the schedule still scales it)", params=[LR])
def _set(control: "Control", cmd: dict) -> None:
    control.learning_rate = cmd["learning_rate"]
    control.emit({"type": "learning_rate", "epoch": control.epoch, "learning_rate": control.learning_rate})


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
    for p in entry.options:
        if command.get(p.name) is None:
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
                 should_stop: Callable[[], bool] | None = None):
        self.learning_rate = learning_rate   # base rate; the schedule scales it
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
            if self.stopped or not self.paused:
                return self.stopped

    def end_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.steps_left is not None:
            self.steps_left -= 1
            if self.steps_left <= 0:
                self.steps_left = None
                self.set_paused(True)
