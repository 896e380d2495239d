"""The artifact store: model files by job id, so no route reads a path a worker chose.

Workers (in a process, a thread or on another machine) hand their model to the executor, which puts it
here; routes ask the manager, which asks the store. `LocalArtifactStore` is the home's models folder
(`<home>/models/<job id>.npz`); every write is atomic (temp file + rename), so a reader never sees half a file.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # storage makes 12 hex digits; nothing that walks a path
TEMP_PREFIX = ".tmp-"                          # home.remove_temp_files removes leftovers at startup


class ArtifactMissing(LookupError):
    """The store has no model for this job (yet)."""


class ArtifactStore(Protocol):
    def put(self, job_id: str, data: bytes) -> None: ...      # atomic: replaces the job's model whole
    def open(self, job_id: str) -> BinaryIO: ...             # ArtifactMissing when there is none
    def exists(self, job_id: str) -> bool: ...
    def delete(self, job_id: str) -> None: ...               # no error when there is none
    def path(self, job_id: str) -> str: ...                  # a file on the server's machine (loaders, caches)


class LocalArtifactStore:
    """A folder of `<job id>.npz` files on the server's own disk."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, job_id: str) -> str:
        if not JOB_ID.match(job_id or ""):
            raise ValueError(f"not a job id: {job_id!r}")
        return str(self.folder / f"{job_id}.npz")

    def put(self, job_id: str, data: bytes) -> None:
        target = self.path(job_id)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=TEMP_PREFIX, suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def open(self, job_id: str) -> BinaryIO:
        try:
            return open(self.path(job_id), "rb")
        except FileNotFoundError:
            raise ArtifactMissing(job_id) from None

    def exists(self, job_id: str) -> bool:
        return os.path.exists(self.path(job_id))

    def delete(self, job_id: str) -> None:
        try:
            os.remove(self.path(job_id))
        except FileNotFoundError:
            pass
