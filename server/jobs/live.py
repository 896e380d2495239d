"""LiveJob: what the server keeps in memory about a queued, running or paused job."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .fanout import Outgoing, Subscriber


@dataclass
class LiveJob:
    id: str
    spec: dict = field(default_factory=dict)  # the normalized spec the worker trains (kept: starting needs no await)
    init_from: str | None = None              # the job whose model file this one starts from
    init_layers: list[int] | None = None      # only these layers of it (fine-tuning); None: the whole model
    lane: str | None = None                   # "light" | "heavy" (engine/cost.py); None: lanes are off
    status: str = "queued"
    epoch: int = 0
    best: dict | None = None
    best_key: tuple[str, int] = ("train_loss", 1)  # (metric, +1 lower is better / -1 higher is better)
    frames: dict[str, dict] = field(default_factory=dict)  # newest frame of each type, for new subscribers
    subscribers: set[Subscriber] = field(default_factory=set)
    pending_commands: list[dict] = field(default_factory=list)  # sent while queued, delivered at start
    starting: bool = False            # holds a running slot, its start is being written; no worker yet
    start_refused: bool = False       # the database refused its start once (disk full); told its viewers
    cancel_requested: bool = False
    stop_reason: str | None = None    # why the server itself stopped it (no one watching); its final message
    unwatched_since: float | None = None  # monotonic time its last viewer left (None: watched, or never was)
    storage_error: str | None = None  # its epochs could not be recorded (disk full): it was stopped, it fails
    finalized: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def broadcast(self, message: dict) -> None:
        """Queue `message` for every viewer; its JSON text is made once, when the first one sends it."""
        if not self.subscribers:
            return
        message = message if isinstance(message, Outgoing) else Outgoing(message)
        for sub in list(self.subscribers):
            sub.push(message)
