"""Recorder: commits what workers report before anyone is told about it.

Per batch of executor messages, one SQLite transaction writes every epoch record, the jobs' `epoch`,
`latest` and `best`, and status changes the trainer reported ({"type": "status"} events, checked by
the status machine). The manager broadcasts only after `record` returns, so a record a client has
seen is always on disk.
"""
from __future__ import annotations

import asyncio

from . import status
from .live import LiveJob
from .storage import Storage


def best_key_for(spec: dict) -> tuple[str, int]:
    """(metric, sign) that ranks epochs: the early-stopping monitor, else val_loss; losses go down."""
    stopping = (spec.get("training") or {}).get("early_stopping") or {}
    metric = stopping.get("monitor") or "val_loss"
    return metric, (1 if "loss" in metric else -1)


def is_better(job: LiveJob, record: dict) -> bool:
    metric, sign = job.best_key
    if metric not in record:
        metric, sign = ("val_loss", 1) if "val_loss" in record else ("train_loss", 1)
    value = record.get(metric)
    if not isinstance(value, (int, float)) or value != value:
        return False
    best = job.best.get(metric) if job.best else None
    return best is None or sign * value < sign * best


class Recorder:
    def __init__(self, storage: Storage):
        self.storage = storage

    async def record(self, batch: list[tuple[str, str, dict]], live: dict[str, LiveJob]) -> None:
        """Persist the epochs and status changes in `batch` [(job_id, kind, payload)] and update `live`."""
        epochs: list[tuple[str, dict]] = []
        updates: dict[str, dict] = {}
        for job_id, kind, payload in batch:
            job = live.get(job_id)
            if job is None or job.finalized or kind != "event":
                continue
            if payload.get("type") == "epoch":
                record = {k: v for k, v in payload.items() if k != "type"}
                epochs.append((job_id, record))
                job.epoch = int(record["epoch"])
                fields = updates.setdefault(job_id, {})
                fields.update(epoch=job.epoch, latest=record)
                if is_better(job, record):
                    job.best = fields["best"] = record
            elif payload.get("type") == "status" and status.move(job, payload.get("status")):
                updates.setdefault(job_id, {})["status"] = job.status
        if epochs or updates:
            await asyncio.to_thread(self.storage.write_batch, epochs, list(updates.items()))

    async def history(self, job_id: str, since: int = 0) -> list[dict]:
        """Epoch records with epoch > since, in order."""
        return await asyncio.to_thread(self.storage.get_epochs, job_id, since)

    async def epoch_record(self, job_id: str, epoch: int) -> dict | None:
        return await asyncio.to_thread(self.storage.get_epoch, job_id, epoch)
