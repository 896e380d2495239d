"""Admission: per lane, the FIFO queue of waiting jobs and the set of running ones.

Two lanes, from the engine's cost estimate (engine/cost.py): "heavy" jobs run at most `max_running` at a time
(`workers_jobs`), "light" ones at most `max_light` (`max_light_jobs`); each lane queues on its own, so a
light job never waits behind a heavy one. At most `max_queued` jobs wait in all (more is a 429). Ids only:
the manager decides what starting or finishing a job means. Every method is synchronous, so a check and
the change it allows happen in one step of the event loop: `reserve` holds a place before the job is
stored (an await), and concurrent creates can never both take the last one. `max_light=0` sends every
job to the heavy lane (one queue, as before lanes).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .errors import JobError

LANES = ("light", "heavy")


@dataclass
class Lane:
    capacity: int
    queue: deque = field(default_factory=deque)
    running: set = field(default_factory=set)
    reserved: int = 0

    def free(self) -> int:
        return max(0, self.capacity - len(self.running))


class Admission:
    def __init__(self, max_running: int = 1, max_queued: int = 32, max_light: int = 0):
        self.max_running = max(1, max_running)
        self.max_queued = max_queued
        self.lanes = {"heavy": Lane(self.max_running), "light": Lane(max(0, max_light))}
        self.lane_of: dict[str, str] = {}

    def lane(self, lane: str | None) -> str:
        """The lane a job of this cost class goes to ("light" only while the light lane has any capacity)."""
        return "light" if lane == "light" and self.lanes["light"].capacity > 0 else "heavy"

    @property
    def queue(self) -> list[str]:
        """Every waiting job, light lane first (each lane in its own order)."""
        return [*self.lanes["light"].queue, *self.lanes["heavy"].queue]

    @property
    def running(self) -> set[str]:
        return self.lanes["light"].running | self.lanes["heavy"].running

    def waiting(self) -> int:
        return sum(len(lane.queue) + lane.reserved for lane in self.lanes.values())

    def reserve(self, lane: str | None = None) -> str:
        """Hold a place in the job's lane, or raise JobError(429) when none is left: a free running slot of
        that lane (the job will start at once) or a place in the queue. Returns the lane."""
        name = self.lane(lane)
        chosen = self.lanes[name]
        if len(chosen.queue) + chosen.reserved >= chosen.free() and self.queued() >= self.max_queued:
            raise JobError(429, f"too many queued jobs ({self.queued()}; limit max_queued_jobs = "
                                f"{self.max_queued}); wait for some to finish or cancel them")
        chosen.reserved += 1
        return name

    def queued(self) -> int:
        """Jobs waiting, or held places that will wait: those beyond their lane's free running slots."""
        return sum(max(0, len(lane.queue) + lane.reserved - lane.free()) for lane in self.lanes.values())

    def unreserve(self, lane: str = "heavy") -> None:
        """Give back a held place (the job could not be stored)."""
        self.lanes[lane].reserved -= 1

    def admit(self, job_id: str, lane: str = "heavy") -> None:
        """Queue a stored job in the place `reserve` held for it."""
        chosen = self.lanes[lane]
        chosen.reserved -= 1
        chosen.queue.append(job_id)
        self.lane_of[job_id] = lane

    def position(self, job_id: str) -> int | None:
        """1 = next to start in its lane; None when the job is not waiting."""
        lane = self.lanes[self.lane_of.get(job_id, "heavy")]
        try:
            return lane.queue.index(job_id) + 1
        except ValueError:
            return None

    def withdraw(self, job_id: str) -> bool:
        """Take a waiting job out of its queue; False if it was not waiting."""
        lane = self.lanes[self.lane_of.get(job_id, "heavy")]
        if job_id not in lane.queue:
            return False
        lane.queue.remove(job_id)
        self.lane_of.pop(job_id, None)
        return True

    def next_to_start(self) -> str | None:
        """The next waiting job of a lane with a free slot (light first), moved to its running set."""
        for name in LANES:
            lane = self.lanes[name]
            if lane.queue and len(lane.running) < lane.capacity:
                job_id = lane.queue.popleft()
                lane.running.add(job_id)
                return job_id
        return None

    def requeue(self, job_id: str) -> None:
        """Give a started job's slot back and put it first in its lane's queue (its start could not be recorded)."""
        lane = self.lanes[self.lane_of.get(job_id, "heavy")]
        lane.running.discard(job_id)
        lane.queue.appendleft(job_id)

    def release(self, job_id: str) -> None:
        name = self.lane_of.pop(job_id, None)
        for lane in ([self.lanes[name]] if name else self.lanes.values()):
            lane.running.discard(job_id)
