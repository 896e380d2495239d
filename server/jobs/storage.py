"""SQLite storage for jobs and their epoch records (WAL mode, one commit per batch of events).

Every call takes a lock and is short; the server calls them from a thread (asyncio.to_thread) so the
event loop never waits on the disk. An epoch row is committed before it is sent to any client, so a
`kill -9` loses nothing that was reported.

Model paths are stored relative to the home folder (the database's folder), so a copied home reads and
deletes its own files, never the original's; rows of older releases (absolute paths) are migrated on open.
A database that cannot be read (0 bytes, not SQLite, damaged) raises CorruptDatabase naming the file and
what to do; `reset_database` moves it aside (a backup, never a delete).
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from ..jsonparse import dumps as dump_json, dumps_shared, loads_shared  # a job's spec with inline rows: megabytes
from .errors import JobError
from .status import ACTIVE_STATES, FINAL_STATES, JOB_STATES  # noqa: F401  (JOB_STATES: re-exported)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    epoch INTEGER NOT NULL DEFAULT 0,
    epochs INTEGER NOT NULL DEFAULT 0,  -- 0: no fixed count (training.epochs null)
    latest TEXT,
    best TEXT,
    outcome TEXT,
    message TEXT,
    summary TEXT,
    n_params INTEGER,
    model_path TEXT,
    init_from TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,      -- running | completed | cancelled
    spec TEXT NOT NULL,        -- the normalized sweep (engine.sweeps.plan_sweep)
    created_at REAL NOT NULL,
    finished_at REAL,
    message TEXT
);
CREATE TABLE IF NOT EXISTS sweep_trials (
    sweep_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    job_id TEXT NOT NULL,      -- given when the sweep is created; the job row exists once the trial starts
    params TEXT NOT NULL,
    state TEXT NOT NULL,       -- waiting | started | cancelled (before it started) | failed (could not start)
    best TEXT,                 -- {"value", "epoch"} of the sweep's metric, once the trial has finished
    message TEXT,              -- e.g. why early termination stopped it
    PRIMARY KEY (sweep_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS epochs (
    job_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (job_id, epoch)
) WITHOUT ROWID;
"""
JSON_COLUMNS = ("spec", "latest", "best", "summary", "init_layers")
COLUMNS = ("id", "seq", "status", "spec", "created_at", "started_at", "finished_at", "epoch", "epochs",
           "latest", "best", "outcome", "message", "summary", "n_params", "model_path", "init_from", "name",
           "init_layers")
SWEEP_COLUMNS = ("id", "seq", "status", "spec", "created_at", "finished_at", "message")
TRIAL_COLUMNS = ("idx", "job_id", "params", "state", "best", "message")
# columns added after the first release: ALTER TABLE on open, so an existing database keeps working
# name: set by a rename (null = engine.naming's); init_layers: the layers init_from copies (null = the whole model)
ADDED_COLUMNS = {"init_from": "TEXT", "name": "TEXT", "init_layers": "TEXT"}
SIDE_FILES = ("-wal", "-shm")  # SQLite's write-ahead log and index: they belong to the database file


class CorruptDatabase(RuntimeError):
    """The job database cannot be read; the message names the file and what to do."""

    def __init__(self, path: Path, reason: str):
        super().__init__(
            f"the job database {path} {reason}. Move it aside (mv {path} {path}.broken) and start again, "
            f"or run `nnplay serve --reset-db` (it keeps the old file as {path.name}.bak-<time>); "
            f"`nnplay doctor` checks the whole folder")
        self.path, self.reason = path, reason


def reset_database(db_path: Path | str) -> Path | None:
    """Move the database (and its -wal / -shm files) aside as <name>.bak-<time>; returns the backup's
    path, None when there was no database. Only while no server uses the home (server/home.py's lock)."""
    path = Path(db_path)
    if not path.exists():
        return None
    backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", *SIDE_FILES):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, f"{backup}{suffix}")
    return backup


class StorageUnavailable(JobError):
    """A write the database refused (disk full, read-only, I/O error): nothing of it was stored; 507."""

    def __init__(self, path: Path, error: Exception):
        super().__init__(507, f"the server cannot write its job database {path} ({error}); free some disk "
                              f"space (or make the folder writable) and try again")


def _writes(method):
    """A write either lands whole or raises StorageUnavailable with the transaction rolled back, so the
    connection stays usable and works again once there is room."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.OperationalError, OSError) as e:
            with self._lock, contextlib.suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            raise StorageUnavailable(self.path, e) from None
    return wrapper


class Storage:
    def __init__(self, db_path: Path | str, models_dir: Path | str | None = None):
        """`models_dir`: where this home keeps model files (default <db folder>/models); rows store paths
        relative to the database's folder, the home."""
        self.path = Path(db_path)
        self.home = self.path.parent.resolve()
        self.models_dir = Path(models_dir).resolve() if models_dir else self.home / "models"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        if self.path.exists() and self.path.stat().st_size == 0:
            # SQLite would take it as a new, empty database: the history would be gone and every
            # model file orphaned without a word
            raise CorruptDatabase(self.path, "is empty (0 bytes): it was truncated, so the job history is lost")
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise CorruptDatabase(self.path, f"cannot be read ({e})") from None

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed row survives a process kill
        check = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {check}")
        self._db.executescript(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        self._migrate_absolute_paths()

    # -- model paths: relative to the home ----------------------------------------------------------
    def _stored_path(self, path: str | None) -> str | None:
        """What the row keeps: a path under the home, relative to it; a file elsewhere is this home's copy,
        the same name in its models folder."""
        if not path:
            return path
        p = Path(path)
        if not p.is_absolute():
            return p.as_posix()
        try:
            return p.resolve().relative_to(self.home).as_posix()
        except ValueError:
            return (self.models_dir / p.name).relative_to(self.home).as_posix()

    def _real_path(self, stored: str | None) -> str | None:
        return str(self.home / stored) if stored else stored

    def _migrate_absolute_paths(self) -> None:
        rows = self._db.execute("SELECT id, model_path FROM jobs WHERE model_path LIKE '/%'").fetchall()
        if rows:
            self._db.executemany("UPDATE jobs SET model_path = ? WHERE id = ?",
                                 [(self._stored_path(path), job_id) for job_id, path in rows])

    def _values(self, fields: dict) -> list:
        return [dump_json(v) if k in JSON_COLUMNS and v is not None
                else self._stored_path(v) if k == "model_path" else v for k, v in fields.items()]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- jobs ---------------------------------------------------------------------------------
    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    @_writes
    def create_job(self, spec: dict, epochs: int, init_from: str | None = None, job_id: str | None = None,
                   init_layers: list[int] | None = None) -> dict:
        """`epochs` 0 = no fixed count; `init_from` = the id of the job this one continues (or copies
        `init_layers` from); `job_id`: an id given out beforehand (a sweep's trial), else a new one."""
        job_id = job_id or self.new_id()
        with self._lock:
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            self._db.execute(
                "INSERT INTO jobs (id, seq, status, spec, created_at, epochs, init_from, init_layers) "
                "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)", (job_id, seq, dumps_shared(spec), time.time(), epochs, init_from,
                                                          None if init_layers is None else json.dumps(init_layers)))
        return self.get_job(job_id)

    def get_job(self, job_id: str) -> dict | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row_to_job(row) if row else None

    def get_jobs(self, ids: list[str]) -> dict[str, dict]:
        """{id: job} of those that exist, in one query."""
        if not ids:
            return {}
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id IN "
                                    f"({', '.join('?' * len(ids))})", list(ids)).fetchall()
        return {job["id"]: job for job in map(self._row_to_job, rows)}

    def list_jobs(self, status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM jobs {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
                args + [limit, offset]).fetchall()
        return [self._row_to_job(r) for r in rows], total

    @_writes
    def update_job(self, job_id: str, **fields) -> None:
        if not fields:
            return
        unknown = set(fields) - set(COLUMNS)
        if unknown:
            raise KeyError(f"unknown job columns: {sorted(unknown)}")
        values = self._values(fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                             values + [job_id])

    @_writes
    def delete_job(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM epochs WHERE job_id = ?", (job_id,))
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            self._db.execute("COMMIT")

    @_writes
    def mark_interrupted(self, message: str) -> list[str]:
        """After a restart: jobs left queued/running/paused become `interrupted`. Returns their ids."""
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM jobs WHERE status IN (?, ?, ?)", ACTIVE_STATES).fetchall()]
            self._db.execute(
                "UPDATE jobs SET status = 'interrupted', message = ?, finished_at = ? WHERE status IN (?, ?, ?)",
                (message, time.time(), *ACTIVE_STATES))
        return ids

    # -- sweeps --------------------------------------------------------------------------------
    @_writes
    def create_sweep(self, spec: dict, trials: list[tuple[str, dict]]) -> str:
        """Store a sweep and its trials [(job_id, params)] (all waiting) in one transaction; returns its id."""
        sweep_id = self.new_id()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sweeps").fetchone()[0]
                self._db.execute("INSERT INTO sweeps (id, seq, status, spec, created_at) VALUES (?, ?, 'running', ?, ?)",
                                 (sweep_id, seq, json.dumps(spec), time.time()))
                self._db.executemany(
                    "INSERT INTO sweep_trials (sweep_id, idx, job_id, params, state) VALUES (?, ?, ?, ?, 'waiting')",
                    [(sweep_id, i, job_id, json.dumps(params)) for i, (job_id, params) in enumerate(trials)])
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return sweep_id

    def get_sweep(self, sweep_id: str) -> dict | None:
        """The sweep row (spec parsed) with its trials in order, or None."""
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(SWEEP_COLUMNS)} FROM sweeps WHERE id = ?",
                                   (sweep_id,)).fetchone()
            if row is None:
                return None
            trials = self._db.execute(f"SELECT {', '.join(TRIAL_COLUMNS)} FROM sweep_trials WHERE sweep_id = ? "
                                      "ORDER BY idx", (sweep_id,)).fetchall()
        sweep = self._sweep_row(row)
        sweep["trials"] = [self._trial_row(t) for t in trials]
        return sweep

    def list_sweeps(self, limit: int = 50, offset: int = 0, status: str | None = None) -> tuple[list[dict], int]:
        """Sweep rows newest first (without trials) and how many there are."""
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM sweeps {where}", args).fetchone()[0]
            rows = self._db.execute(f"SELECT {', '.join(SWEEP_COLUMNS)} FROM sweeps {where} ORDER BY seq DESC "
                                    "LIMIT ? OFFSET ?", args + [limit, offset]).fetchall()
        return [self._sweep_row(r) for r in rows], total

    @_writes
    def update_sweep(self, sweep_id: str, **fields) -> None:
        if set(fields) - set(SWEEP_COLUMNS):
            raise KeyError(f"unknown sweep columns: {sorted(set(fields) - set(SWEEP_COLUMNS))}")
        with self._lock:
            self._db.execute(f"UPDATE sweeps SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                             [*fields.values(), sweep_id])

    @_writes
    def update_trial(self, sweep_id: str, index: int, **fields) -> None:
        if set(fields) - set(TRIAL_COLUMNS):
            raise KeyError(f"unknown trial columns: {sorted(set(fields) - set(TRIAL_COLUMNS))}")
        values = [json.dumps(v) if k in ("params", "best") and v is not None else v for k, v in fields.items()]
        with self._lock:
            self._db.execute(f"UPDATE sweep_trials SET {', '.join(f'{k} = ?' for k in fields)} "
                             "WHERE sweep_id = ? AND idx = ?", [*values, sweep_id, index])

    @staticmethod
    def _sweep_row(row: tuple) -> dict:
        sweep = dict(zip(SWEEP_COLUMNS, row))
        sweep["spec"] = json.loads(sweep["spec"])
        return sweep

    @staticmethod
    def _trial_row(row: tuple) -> dict:
        trial = dict(zip(TRIAL_COLUMNS, row))
        trial["params"] = json.loads(trial["params"])
        trial["best"] = json.loads(trial["best"]) if trial["best"] else None
        return trial

    # -- epochs -------------------------------------------------------------------------------
    @_writes
    def write_batch(self, epochs: list[tuple[str, dict]], updates: list[tuple[str, dict]]) -> None:
        """One transaction: insert epoch records [(job_id, record)] and apply job updates [(job_id, fields)]."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO epochs (job_id, epoch, record) VALUES (?, ?, ?)",
                    [(job_id, int(rec["epoch"]), json.dumps(rec)) for job_id, rec in epochs])
                for job_id, fields in updates:
                    values = self._values(fields)
                    self._db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                                     values + [job_id])
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT may have ended it already
                    self._db.execute("ROLLBACK")
                raise

    def get_epochs(self, job_id: str, since: int = 0, limit: int | None = None) -> list[dict]:
        """Epoch records with epoch > since, in order; at most `limit` of them (None: all)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM epochs WHERE job_id = ? AND epoch > ? ORDER BY epoch LIMIT ?",
                (job_id, since, -1 if limit is None else limit)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def get_epoch(self, job_id: str, epoch: int) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM epochs WHERE job_id = ? AND epoch = ?",
                                   (job_id, int(epoch))).fetchone()
        return json.loads(row[0]) if row else None

    def _row_to_job(self, row: tuple) -> dict:
        job = dict(zip(COLUMNS, row))
        for key in JSON_COLUMNS:
            if job[key] is not None:
                job[key] = loads_shared(job[key]) if key == "spec" else json.loads(job[key])
        job["model_path"] = self._real_path(job["model_path"])
        return job
