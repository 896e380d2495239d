"""Per-client outgoing buffers: epoch messages (and SERIES_FRAMES) are kept, other frames of one type replace
each other.

A slow client therefore never grows a queue of stale boundary/histogram frames: when it catches up
it gets every epoch record and only the newest frame of each kind. A client more than `max_pending`
messages behind is dropped: its buffer is emptied at once (memory stays flat) and its next read raises
SlowClientError (the socket closes with 1008; the client reconnects with ?since= and replays from storage).
"""
from __future__ import annotations

import asyncio
import json
from collections import OrderedDict


class Outgoing(dict):
    """A message as it goes out: the dict, and its JSON text made once, on first use, for every viewer (a
    boundary frame is ~17 KB of JSON, a histograms frame ~13 KB; 30 viewers of one projector share one)."""

    __slots__ = ("_text",)

    @classmethod
    def encoded_as(cls, text: str, **keys) -> "Outgoing":
        """A message whose JSON `text` was made elsewhere (a worker encodes its frames): the dict holds only
        `keys` (type, epoch: what routing reads); viewers get `text`."""
        message = cls(keys)
        message._text = text
        return message

    @property
    def text(self) -> str:
        try:
            return self._text
        except AttributeError:
            self._text = json.dumps(self, separators=(",", ":"), ensure_ascii=False)   # as Starlette's send_json
            return self._text


def encoded(message: dict) -> str:
    """The message's JSON text: an Outgoing's shared one, else made now."""
    if isinstance(message, Outgoing):
        return message.text
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


# frames a page draws as a series, one line per epoch (/sequences: the gradient through time): each is kept,
# like an epoch record, not replaced by the next of its type; they are small (T numbers per recurrent layer)
# and paced by stream.max_fps. A fast run otherwise reached a page that was still replaying with its last one only
SERIES_FRAMES = frozenset({"time_gradients"})


class SlowClientError(RuntimeError):
    pass


class Subscriber:
    def __init__(self, max_pending: int = 5000):
        self.pending: OrderedDict[tuple, dict] = OrderedDict()
        self.wake = asyncio.Event()
        self.skip_through: int | None = None  # drop live epochs <= this (already replayed)
        self.max_pending = max_pending
        self.overflowed = False

    def push(self, message: dict) -> None:
        if self.overflowed:
            return  # being dropped: buffer nothing more
        kind = message.get("type")
        if kind == "epoch":
            if self.skip_through is not None and message["epoch"] <= self.skip_through:
                return
            key = ("epoch", message["epoch"])
        elif kind in SERIES_FRAMES:
            key = (kind, message.get("epoch"))
        else:
            key = (kind,)
            self.pending.pop(key, None)  # a newer frame replaces the unsent one and moves to the back
        self.pending[key] = message
        if len(self.pending) > self.max_pending:
            self.overflowed = True
            self.pending.clear()
        self.wake.set()

    def start_live(self, last_replayed: int) -> None:
        """Replay is done up to `last_replayed`: drop buffered duplicates and filter later ones."""
        self.skip_through = last_replayed
        for key in [k for k in self.pending if k[0] == "epoch" and k[1] <= last_replayed]:
            del self.pending[key]

    async def next_batch(self) -> list[dict]:
        while not self.pending and not self.overflowed:
            self.wake.clear()
            await self.wake.wait()
        if self.overflowed:
            raise SlowClientError(f"client too slow: more than {self.max_pending} messages waiting "
                                  "(max_client_messages)")
        items = list(self.pending.values())
        self.pending.clear()
        return items
