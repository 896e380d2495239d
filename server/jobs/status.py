"""The job status state machine: which status may follow which, and what the final one is.

queued -> running          a worker took the job (admission)
running <-> paused         only when the trainer says so: engine.control emits {"type": "status"} events
active -> final            the worker's result, error or exit; a cancel while queued; a shutdown
Nothing leaves a final status, so a late event from a finished worker changes nothing.
"""
from __future__ import annotations

ACTIVE_STATES = ("queued", "running", "paused")
FINAL_STATES = ("completed", "early_stopped", "cancelled", "diverged", "failed", "interrupted")
JOB_STATES = ACTIVE_STATES + FINAL_STATES

NEXT = {"queued": ("running", *FINAL_STATES),
        "running": ("paused", *FINAL_STATES),
        "paused": ("running", *FINAL_STATES)}

# TrainResult.outcome -> the job's final status
OUTCOME_STATUS = {"completed": "completed", "early_stopped": "early_stopped", "diverged": "diverged",
                  "stopped": "cancelled", "cancelled": "cancelled", "failed": "failed"}


def can_move(current: str, new: str) -> bool:
    return new in NEXT.get(current, ())


def move(job, new: str) -> bool:
    """Set `job.status` to `new` if the machine allows it; True when it changed."""
    if new == job.status or not can_move(job.status, new):
        return False
    job.status = new
    return True


def result_status(outcome: str | None, cancel_requested: bool) -> str:
    """Final status for a worker's result; a run that completed while a cancel was on its way counts as cancelled."""
    status = OUTCOME_STATUS.get(outcome, "completed")
    return "cancelled" if cancel_requested and status == "completed" else status
