"""What an executor tells the manager about a job: typed messages, exactly one terminal message per job.

Event(job_id, event)        one trainer event, unchanged (epoch records, frames, {"type": "status"} ...)
Finished(job_id, outcome, message, best_epoch, artifact)
                            the trainer returned (outcome: engine TrainResult.outcome, or "stopped" when a
                            cancel had to stop the worker); `artifact` is the key the artifact store holds
                            the job's model under (the job id), None when no model was saved
Failed(job_id, message)     the job cannot finish: train raised, the worker crashed or was lost

The executor guarantees, whatever happens to the worker (an exception, a segfault, a lost node), that each
submitted job gets exactly one Finished or Failed, that it is the job's last message, and that it comes only
once the worker holds no resources any more (the manager frees the job's running slot on it).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    job_id: str
    event: dict


@dataclass(frozen=True, slots=True)
class Finished:
    job_id: str
    outcome: str
    message: str | None = None
    best_epoch: int | None = None
    artifact: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    job_id: str
    message: str


Message = Event | Finished | Failed
TERMINAL = (Finished, Failed)

LOST_WORKER = "the worker process died unexpectedly ({reason}); the server is fine, the job is lost"
STOPPED_WORKER = "cancelled; the worker was stopped ({reason})"
