"""Recorder: commits what workers report before anyone is told about it.

Per batch of executor messages, one SQLite transaction writes every epoch record, the jobs' `epoch`,
`latest` and `best`, and status changes the trainer reported ({"type": "status"} events, checked by
the status machine). The manager broadcasts only after `record` returns, so a record a client has
seen is always on disk.
"""
from __future__ import annotations

import asyncio

from engine.metrics import lower_is_better

from . import status
from .live import LiveJob
from .messages import Event, Message
from .storage import Storage


def best_key_for(spec: dict) -> tuple[str, int]:
    """(metric, sign) that ranks epochs: the early-stopping monitor, else val_loss; losses go down."""
    stopping = (spec.get("training") or {}).get("early_stopping") or {}
    metric = stopping.get("monitor") or "val_loss"
    return metric, (1 if lower_is_better(metric) else -1)


def is_better(job: LiveJob, record: dict, best_record: dict | None = None) -> bool:
    """`record` beats `best_record` (default the job's best) on the job's ranking metric."""
    metric, sign = job.best_key
    if metric not in record:
        metric, sign = ("val_loss", 1) if "val_loss" in record else ("train_loss", 1)
    value = record.get(metric)
    if not isinstance(value, (int, float)) or value != value:
        return False
    best_record = job.best if best_record is None else best_record
    best = best_record.get(metric) if best_record else None
    return best is None or sign * value < sign * best


class Recorder:
    def __init__(self, storage: Storage):
        self.storage = storage

    async def record(self, batch: list[Message], live: dict[str, LiveJob]) -> None:
        """Persist the epochs and status changes in `batch` (its Events), then update `live`.

        The live jobs change only once the write landed: when storage refuses it (StorageUnavailable, e.g.
        the disk is full) it raises and the API keeps saying what the database says."""
        epochs: list[tuple[str, dict]] = []
        updates: dict[str, dict] = {}
        staged: dict[str, tuple[LiveJob, dict]] = {}  # job id -> (job, its new epoch / best / status)
        for message in batch:
            if not isinstance(message, Event):
                continue
            job_id, payload = message.job_id, message.event
            job = live.get(job_id)
            if job is None or job.finalized:
                continue
            now = staged.setdefault(job_id, (job, {}))[1]
            if payload.get("type") == "epoch":
                record = {k: v for k, v in payload.items() if k != "type"}
                epochs.append((job_id, record))
                now["epoch"] = int(record["epoch"])
                fields = updates.setdefault(job_id, {})
                fields.update(epoch=now["epoch"], latest=record)
                if is_better(job, record, now.get("best", job.best)):
                    now["best"] = fields["best"] = record
            elif payload.get("type") == "status":
                current, new = now.get("status", job.status), payload.get("status")
                if new != current and status.can_move(current, new):
                    now["status"] = updates.setdefault(job_id, {})["status"] = new
        if epochs or updates:
            await asyncio.to_thread(self.storage.write_batch, epochs, list(updates.items()))
        for job, values in staged.values():
            if "status" in values:  # through the machine: a job finished meanwhile stays finished
                status.move(job, values.pop("status"))
            for key, value in values.items():
                setattr(job, key, value)

    async def history(self, job_id: str, since: int = 0, limit: int | None = None) -> list[dict]:
        """Epoch records with epoch > since, in order; at most `limit` (None: all)."""
        return await asyncio.to_thread(self.storage.get_epochs, job_id, since, limit)

    async def epoch_record(self, job_id: str, epoch: int) -> dict | None:
        return await asyncio.to_thread(self.storage.get_epoch, job_id, epoch)
