"""Admission: the FIFO queue of waiting jobs and the set of running ones.

At most `max_running` jobs run; at most `max_queued` wait (more is a 429). Ids only: the manager
decides what starting or finishing a job means. Every method is synchronous, so a check and the change it
allows happen in one step of the event loop: `reserve` holds a place before the job is stored (an await),
and concurrent creates can never both take the last one.
"""
from __future__ import annotations

from collections import deque

from .errors import JobError


class Admission:
    def __init__(self, max_running: int = 1, max_queued: int = 32):
        self.max_running = max(1, max_running)
        self.max_queued = max_queued
        self.queue: deque[str] = deque()
        self.running: set[str] = set()
        self.reserved = 0  # places held by creates that are still storing their job

    def waiting(self) -> int:
        return len(self.queue) + self.reserved

    def reserve(self) -> None:
        """Hold a place, or raise JobError(429) when none is left: a free running slot (the job will start
        at once) or a place in the queue."""
        free_slots = max(0, self.max_running - len(self.running))
        if self.waiting() >= self.max_queued + free_slots:
            raise JobError(429, f"too many queued jobs ({self.waiting()}; limit max_queued_jobs = "
                                f"{self.max_queued}); wait for some to finish or cancel them")
        self.reserved += 1

    def unreserve(self) -> None:
        """Give back a held place (the job could not be stored)."""
        self.reserved -= 1

    def admit(self, job_id: str) -> None:
        """Queue a stored job in the place `reserve` held for it."""
        self.reserved -= 1
        self.queue.append(job_id)

    def position(self, job_id: str) -> int | None:
        """1 = next to start; None when the job is not waiting."""
        try:
            return self.queue.index(job_id) + 1
        except ValueError:
            return None

    def withdraw(self, job_id: str) -> bool:
        """Take a waiting job out of the queue; False if it was not waiting."""
        if job_id not in self.queue:
            return False
        self.queue.remove(job_id)
        return True

    def next_to_start(self) -> str | None:
        """The next waiting job, moved to the running set, when a slot is free."""
        if not self.queue or len(self.running) >= self.max_running:
            return None
        job_id = self.queue.popleft()
        self.running.add(job_id)
        return job_id

    def requeue(self, job_id: str) -> None:
        """Give a started job's slot back and put it first in the queue (its start could not be recorded)."""
        self.running.discard(job_id)
        self.queue.appendleft(job_id)

    def release(self, job_id: str) -> None:
        self.running.discard(job_id)
