"""The NNPLAY_HOME folder: one server at a time, and what startup tidies there.

`HomeLock` is a lock file (`nnplay.lock`, holding the server's pid) with an exclusive `flock`: a second
server on the same home refuses to start, naming the first one's pid. The kernel drops the flock when its
holder dies, so a stale file left by a killed server is simply taken over. Job workers are spawned
processes and do not inherit it.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "nnplay.lock"
TEMP_PATTERN = ".tmp-*"  # engine/model.py's atomic writes: a temp file renamed over the model file


class HomeInUse(RuntimeError):
    """Another live server holds the home's lock."""

    def __init__(self, home: Path, pid: int | None):
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"another NN Playground server ({who}) is already using {home}: two servers on one home would "
            f"mark each other's jobs interrupted and train deleted jobs unseen. Stop that server first, or give "
            f"this one its own folder: NNPLAY_HOME=<another folder> nnplay serve")
        self.home, self.pid = home, pid


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class HomeLock:
    def __init__(self, home: Path | str):
        self.home = Path(home)
        self.path = self.home / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "HomeLock":
        """Take the lock or raise HomeInUse (naming the holder's pid)."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HomeInUse(self.home, _read_pid(self.path)) from None
        except OSError:  # a file system without flock (some network mounts): trust the pid in the file
            pid = _read_pid(self.path)
            if pid and pid != os.getpid() and _alive(pid):
                os.close(fd)
                raise HomeInUse(self.home, pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race a server opening it right now)."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "HomeLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(home: Path | str) -> int | None:
    """The pid of the server using `home`, None when it is free."""
    try:
        with HomeLock(home):
            return None
    except HomeInUse as e:
        return e.pid or -1


def remove_temp_files(models_dir: Path | str) -> list[str]:
    """Delete half-written model files a crash left behind (call with the home's lock held: no one else
    writes there). Returns their names."""
    folder = Path(models_dir)
    removed = []
    for path in folder.glob(TEMP_PATTERN) if folder.is_dir() else ():
        try:
            path.unlink()
            removed.append(path.name)
        except OSError:
            pass
    return removed


class NoRoom(RuntimeError):
    """The models folder cannot take this job's model file (disk full, read-only); the manager answers 507."""


PROBE_BYTES = 64 * 1024


def check_room(folder: Path | str, need_bytes: int) -> None:
    """Raise NoRoom unless `folder` takes a small probe write and has `need_bytes` free (a job's model
    file: weights, optimizer slots, checkpoints are written there while it trains)."""
    import tempfile

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tmp-probe-") as f:  # .tmp-: swept at startup
            f.write(b"\0" * PROBE_BYTES)
            f.flush()
            os.fsync(f.fileno())
        stat = os.statvfs(folder)
    except OSError as e:
        raise NoRoom(f"the server cannot write model files in {folder} ({e.strerror or e}); free some disk "
                     f"space (or make the folder writable) and try again; nothing was queued") from None
    free = stat.f_bavail * stat.f_frsize
    if free < need_bytes:
        raise NoRoom(f"only {free:,} bytes are free in {folder}; this job's model file needs about "
                     f"{need_bytes:,}. Free some disk space and try again; nothing was queued")
