"""A warm pool of worker processes for light jobs: the engine is imported before a job arrives, and each
process trains many light jobs at once, one thread per job.

Why: a playground job needs ~1 ms of CPU per epoch, but a fresh process costs ~0.3 s of CPU to spawn and
import NumPy and the engine, and 30 of them hold 30 copies of it in memory. Threads of one process share
the imports; a light job's thread spends most of its time asleep (the stream's pace) or in short NumPy
calls, so the processes' GILs interleave many jobs. One process per core (`processes`).

Isolation: an exception in one job fails that job only; a process that dies (a segfault, the kernel's
OOM killer) fails the light jobs it was running (each gets its one Failed) and is replaced. Heavy jobs
never run here (PooledExecutor sends them to LocalProcessExecutor: one process each).

Wire format (private to this module; to the process a multiprocessing.Queue, from it a one-way pipe):
  to the process:   ("start", job_id, spec, model_path, commands, init_path, limits)
                    ("command", job_id, command)      ("exit",)
  from the process: ("ready", pid, None)   ("events", job_id, [event, ...]): an event is the trainer's dict, or
                    [type, epoch, null] for a frame the server only forwards (ENCODED_HERE), whose JSON text
                    follows the header (see `pack`)
                    ("result", job_id, {"outcome", "message", "best_epoch"})   ("error", job_id, {"message"})
A job's events are sent in small bundles (`EventBundler`: everything said within FLUSH_SECONDS, and at once
for frames, status changes and the last epoch), so a pipe write carries several messages.

One pipe message is `pack(item, texts)`: the item's JSON, then each frame text, NUL-separated (JSON text never
holds a raw NUL: json.dumps escapes it). A frame's text thus travels as it is: it is not escaped into a JSON
string here and parsed back on the server (that was ~16% of a pool process's CPU in a class of 30).
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
import traceback

from .worker import CommandReader, error_message, load_function, set_thread_env, train_job

SEPARATOR = b"\0"
FLUSH_SECONDS = 0.02       # an epoch event waits at most this long for company (50 epochs/s: one per bundle)
POLL_SECONDS = 0.5         # how often an idle process checks that the server is still there
# frames the server forwards without reading them: encoded to JSON here, in parallel with the other pool
# process, not on the server's event loop (a histograms frame is ~0.5 ms of json.dumps)
ENCODED_HERE = ("boundary", "histograms", "gradients")
LIGHT_NICENESS = 5         # below the server (0), above heavy jobs (pooled_executor.HEAVY_NICENESS)


class EventBundler:
    """Collects one job's events and writes them to the process queue as one message per bundle."""

    def __init__(self, outbox, job_id: str):
        self.outbox, self.job_id = outbox, job_id
        self.pending: list[dict] = []
        self.since = 0.0

    def __call__(self, event: dict) -> None:
        if not self.pending:
            self.since = time.monotonic()
        if event.get("type") in ENCODED_HERE:   # the server only forwards these: it gets their JSON text
            event = (event["type"], event.get("epoch"), frame_json(event))
        self.pending.append(event)
        # an epoch record alone may wait a little for the next (a paced run: ~20 ms); anything else goes now
        if not isinstance(event, dict) or event.get("type") != "epoch" or time.monotonic() - self.since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            events, self.pending = self.pending, []
            self.outbox.put(("events", self.job_id, events))


class _FlushingReader(CommandReader):
    """The trainer's command source; each read (between batches, and every pace sleep) first sends what the
    bundler holds, so no event waits longer than one batch."""

    def __init__(self, commands, parent_pid: int, bundler: EventBundler):
        super().__init__(commands, parent_pid)
        self.bundler = bundler

    def __call__(self, timeout: float = 0.0) -> list[dict]:
        if self.bundler.pending and time.monotonic() - self.bundler.since >= FLUSH_SECONDS:
            self.bundler.flush()
        return super().__call__(timeout)


def _run_one(outbox, job_id: str, spec: dict, model_path: str, commands: queue.Queue, init_path, limits,
             train, checkpoint_seconds: float, parent_pid: int, jobs: dict) -> None:
    bundler = EventBundler(outbox, job_id)
    reader = _FlushingReader(commands, parent_pid, bundler)
    try:
        result = train_job(spec, train, bundler, reader, model_path,
                           checkpoint_seconds, init_path, limits)
        bundler.flush()
        outbox.put(("result", job_id, result))
    except Exception as e:  # noqa: BLE001  one job's failure is that job's, never its neighbours'
        traceback.print_exc()
        bundler.flush()
        outbox.put(("error", job_id, {"message": error_message(e)}))
    except BaseException as e:  # noqa: BLE001  SystemExit in a job thread: the job is lost, the process lives
        outbox.put(("error", job_id, {"message": f"the job's worker thread stopped ({type(e).__name__})"}))
    finally:
        jobs.pop(job_id, None)


def frame_json(frame: dict) -> str:
    """A frame's JSON text; a frame that knows a cheaper way to write itself (probes.Frame) uses it."""
    text = getattr(frame, "json_text", None)
    return text() if text is not None else json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def pack(item) -> bytes:
    """One pipe message: ("events", job_id, events) with each encoded frame's text moved after the header."""
    if item[0] != "events" or all(isinstance(e, dict) for e in item[2]):
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
    texts, events = [], []
    for e in item[2]:
        if isinstance(e, dict):
            events.append(e)
        else:
            texts.append(e[2].encode())
            events.append((e[0], e[1], None))
    header = json.dumps((item[0], item[1], events), separators=(",", ":"), ensure_ascii=False).encode()
    return SEPARATOR.join([header, *texts])


def unpack(data: bytes):
    """pack's inverse: the item, its frames as (type, epoch, text) again (the server's reader calls it)."""
    header, *texts = data.split(SEPARATOR)
    item = json.loads(header)
    if texts:
        parts = iter(texts)
        item[2] = [e if isinstance(e, dict) else (e[0], e[1], next(parts).decode()) for e in item[2]]
    return item


class Outbox:
    """The write end of the pipe to the server, shared by the job threads (a Connection is not thread-safe).

    A pipe, not a multiprocessing.Queue: the server holds only the read end, so when this process dies (even
    in the middle of a message) the server reads EOF instead of waiting forever for the rest of it."""

    def __init__(self, conn):
        self.conn, self.lock = conn, threading.Lock()

    def put(self, item) -> None:
        # JSON, not pickle: the server never unpickles what a process sends (trainer events are JSON-ready)
        data = pack(item)   # outside the lock
        with self.lock:
            self.conn.send_bytes(data)


def pool_main(inbox, outbox_conn, train_path: str = "engine:train", checkpoint_seconds: float = 2.0,
              parent_pid: int | None = None) -> None:
    """Process entry point: import the engine, say ready, then start a thread per job it is sent."""
    outbox = Outbox(outbox_conn)
    set_thread_env(1)   # many jobs share the process's cores: one BLAS thread each (before numpy loads)
    try:
        os.nice(LIGHT_NICENESS)
    except OSError:
        pass
    parent_pid = parent_pid or os.getppid()
    train = load_function(train_path)   # the warm part: numpy, the engine and its registries
    import engine.trainer  # noqa: F401  (the train hook of fault tests may not import it)
    outbox.put(("ready", os.getpid(), None))
    jobs: dict[str, queue.Queue] = {}
    while True:
        try:
            message = inbox.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:   # the server is gone: the jobs' readers cancel them, then leave
                break
            continue
        except (EOFError, OSError):
            break
        kind = message[0]
        if kind == "exit":
            break
        if kind == "start":
            _, job_id, spec, model_path, commands, init_path, limits = message
            q: queue.Queue = queue.Queue()
            for command in commands or []:
                q.put(command)
            jobs[job_id] = q
            threading.Thread(target=_run_one, name=f"nnplay-job-{job_id}", daemon=True,
                             args=(outbox, job_id, spec, model_path, q, init_path, limits, train,
                                   checkpoint_seconds, parent_pid, jobs)).start()
        elif kind == "command":
            q = jobs.get(message[1])
            if q is not None:
                q.put(message[2])
    for q in list(jobs.values()):
        q.put({"cmd": "cancel"})
    deadline = time.monotonic() + 2.0
    while jobs and time.monotonic() < deadline:
        time.sleep(0.05)
