"""Run-time control of a training run: pause / resume / step / cancel / set learning rate.

`commands(timeout)` (from the caller) returns pending command dicts, waiting up to `timeout`
seconds when there are none. `should_stop()` is an extra cancel flag. Both are polled between batches.
"""
from __future__ import annotations

import math
from typing import Callable

PAUSE_POLL_SECONDS = 0.25


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

    def _apply(self, command: dict) -> None:
        cmd = command.get("cmd") if isinstance(command, dict) else None
        if cmd == "pause":
            self._set_paused(True)
        elif cmd == "resume":
            self.steps_left = None
            self._set_paused(False)
        elif cmd == "step":
            self.steps_left = 1
            self._set_paused(False)
        elif cmd == "cancel":
            self.stopped = True
        elif cmd == "set":
            lr = command.get("learning_rate")
            if isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and 0 < lr <= 10:
                self.learning_rate = float(lr)
                self.emit({"type": "learning_rate", "epoch": self.epoch, "learning_rate": self.learning_rate})

    def _set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self.emit({"type": "status", "status": "paused" if paused else "running", "epoch": self.epoch})

    def check(self) -> bool:
        """Apply pending commands; block while paused. True means stop training now."""
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
                self._set_paused(True)
