"""Admission: the FIFO queue of waiting jobs and the set of running ones.

At most `max_running` jobs run; at most `max_queued` wait (more is a 429). Ids only: the manager
decides what starting or finishing a job means.
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

    def check_room(self) -> None:
        """Raise JobError(429) when the queue is full."""
        if len(self.queue) >= self.max_queued:
            raise JobError(429, f"too many queued jobs ({len(self.queue)}; limit max_queued_jobs = "
                                f"{self.max_queued}); wait for some to finish or cancel them")

    def admit(self, job_id: str) -> None:
        self.check_room()
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

    def release(self, job_id: str) -> None:
        self.running.discard(job_id)
