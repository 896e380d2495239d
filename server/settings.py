"""One settings object read from the environment (NNPLAY_*); limits are visible in /api/catalog."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .jobs.threads import parse_threads
from .security import split_names

VERSION = "0.1.0"
DEFAULT_MAX_JSON_DEPTH = 64   # nesting levels of a request body (a spec needs about 6)


def default_home() -> Path:
    """$NNPLAY_HOME, else the per-user data dir ($XDG_DATA_HOME or ~/.local/share)/nnplay."""
    if os.environ.get("NNPLAY_HOME"):
        return Path(os.environ["NNPLAY_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nnplay"


def _env(name: str, default, cast=int):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError as e:
        raise ValueError(f"environment variable {name}: cannot read {raw!r} as {cast.__name__}") from e


@dataclass
class Settings:
    home: Path = field(default_factory=default_home)
    workers_jobs: int = field(default_factory=lambda: _env("NNPLAY_WORKERS_JOBS", os.cpu_count() or 1))
    # BLAS threads per job: "auto" (the free cores for a job training alone, one each while several train) or
    # a fixed number; server/jobs/threads.py
    threads: str | int = field(default_factory=lambda: _env("NNPLAY_THREADS", "auto", parse_threads))
    max_body_bytes: int = field(default_factory=lambda: _env("NNPLAY_MAX_BODY_BYTES", 4 * 1024 * 1024))
    max_image_side: int = field(default_factory=lambda: _env("NNPLAY_MAX_IMAGE_SIDE", 2048))
    max_image_pixels: int = field(default_factory=lambda: _env("NNPLAY_MAX_IMAGE_PIXELS", 2048 * 2048))
    max_queued_jobs: int = field(default_factory=lambda: _env("NNPLAY_MAX_QUEUED_JOBS", 32))
    max_weights_params: int = field(default_factory=lambda: _env("NNPLAY_MAX_WEIGHTS_PARAMS", 200_000))
    max_predict_rows: int = field(default_factory=lambda: _env("NNPLAY_MAX_PREDICT_ROWS", 10_000))
    max_json_depth: int = field(default_factory=lambda: _env("NNPLAY_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH))
    # arrays + objects in a request body, counted before it is parsed: parsing holds the GIL, so a body of
    # millions of tiny lists (a 6 MB stroke list) would stall every request; the largest spec needs ~25,000
    max_json_containers: int = field(default_factory=lambda: _env("NNPLAY_MAX_JSON_CONTAINERS", 50_000))
    cancel_grace_seconds: float = field(default_factory=lambda: _env("NNPLAY_CANCEL_GRACE", 3.0, float))
    checkpoint_seconds: float = field(default_factory=lambda: _env("NNPLAY_CHECKPOINT_SECONDS", 2.0, float))
    # a WebSocket client whose sends have not gone out for this long is dropped (1008); and when it is
    # this many messages behind (its buffer is bounded, so memory stays flat)
    slow_client_seconds: float = field(default_factory=lambda: _env("NNPLAY_SLOW_CLIENT_SECONDS", 30.0, float))
    max_client_messages: int = field(default_factory=lambda: _env("NNPLAY_MAX_CLIENT_MESSAGES", 5000))
    # an open-ended run (training.epochs null) is stopped this long after its last WebSocket viewer left
    # (a closed playground tab); a run nobody ever watched (a script polling REST) is never stopped. 0: never
    unwatched_seconds: float = field(default_factory=lambda: _env("NNPLAY_UNWATCHED_SECONDS", 60.0, float))
    # permessage-deflate on the sockets (`nnplay serve`): off, since compressing every frame was the server's
    # largest cost with a class watching (zlib ~40% of its sends; frames are mostly base64, which barely shrinks)
    ws_compression: bool = field(default_factory=lambda: bool(_env("NNPLAY_WS_COMPRESSION", 0)))
    # GET /api/jobs/{id}/history pages: `limit` defaults to history_page, at most max_history_page
    history_page: int = field(default_factory=lambda: _env("NNPLAY_HISTORY_PAGE", 1000))
    max_history_page: int = field(default_factory=lambda: _env("NNPLAY_MAX_HISTORY_PAGE", 10_000))
    api_token: str | None = field(default_factory=lambda: os.environ.get("NNPLAY_API_TOKEN") or None)
    # names served besides 127.0.0.1, localhost and [::1] (server/security.py: DNS rebinding and Origin checks)
    allowed_hosts: list[str] = field(default_factory=lambda: split_names(os.environ.get("NNPLAY_ALLOWED_HOSTS")))
    # where jobs train: "local" (a process per job), "thread" (threads of the server; tests) or "ray" (tasks on
    # the Ray cluster at ray_address; none: a Ray instance of this server's own on 127.0.0.1)
    executor: str = field(default_factory=lambda: os.environ.get("NNPLAY_EXECUTOR") or "local")
    ray_address: str | None = field(default_factory=lambda: os.environ.get("NNPLAY_RAY_ADDRESS") or None)
    # light jobs (engine/cost.py: an epoch and a set of frames within the engine's light_job_flops) run beside
    # the workers_jobs heavy ones, up to this many at a time, queued apart (0: one queue for every job)
    max_light_jobs: int = field(default_factory=lambda: _env("NNPLAY_MAX_LIGHT_JOBS", 64))
    # the local executor's warm processes for light jobs (engine imported, a thread per job; 0: a process per job)
    pool_processes: int = field(default_factory=lambda: _env("NNPLAY_POOL_PROCESSES", os.cpu_count() or 1))
    # engine limit overrides, e.g. NNPLAY_MAX_UNITS=256 -> engine.Limits(max_units=256)
    engine_overrides: dict = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.home / "nnplay.sqlite3"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def engine_limits(self):
        """engine.Limits with every field overridable by NNPLAY_<FIELD> (one list of limits: the engine's)."""
        from engine import Limits

        values = {}
        for f in dataclasses.fields(Limits):
            cast = type(f.default) if isinstance(f.default, (int, float)) and not isinstance(f.default, bool) else int
            value = _env(f"NNPLAY_{f.name.upper()}", None, cast)
            if value is not None:
                values[f.name] = value
        values.update({k: v for k, v in self.engine_overrides.items() if v is not None})
        return Limits(**values)

    def server_limits(self) -> dict:
        return {
            "max_body_bytes": self.max_body_bytes,
            "max_image_side": self.max_image_side,
            "max_image_pixels": self.max_image_pixels,
            "max_queued_jobs": self.max_queued_jobs,
            "max_weights_params": self.max_weights_params,
            "max_predict_rows": self.max_predict_rows,
            "max_json_depth": self.max_json_depth,
            "max_json_containers": self.max_json_containers,
            "workers_jobs": self.workers_jobs,
            "max_light_jobs": self.max_light_jobs,
            "pool_processes": self.pool_processes,
            "threads": self.threads,
            "slow_client_seconds": self.slow_client_seconds,
            "max_client_messages": self.max_client_messages,
            "unwatched_seconds": self.unwatched_seconds,
            "history_page": self.history_page,
            "max_history_page": self.max_history_page,
        }
