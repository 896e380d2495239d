"""RayExecutor: every job is a task on a Ray cluster (`pip install 'nnplay[ray]'`, `nnplay serve --executor ray`).

- A job is one Ray task, a streaming generator (`num_returns="streaming"`): it trains in a thread of the Ray
  worker and yields JSON-ready dicts in bundles (FLUSH_SECONDS, like the warm pool's), the last one the end:
      {"events": [event, ...], "model": bytes?}     an event is the trainer's dict, or [type, epoch, json_text]
                                                    for the frames the server only forwards (pool.ENCODED_HERE)
      {"end": {"result": {...}} | {"error": text}, "model": bytes?}
  "model" is the job's model file (a checkpoint, or the final model with the end): it travels through Ray's
  object store and the server `put`s it in its artifact store, so workers never share the server's disk.
  `init_from` goes the other way: the server reads the artifact and sends its bytes with the task.
- Commands go in through one small async actor (`Mailbox`, on the server's node): the server `put`s a job's
  commands there, and a thread of the job's task long-polls `take`, so a command reaches the trainer at once
  without the trainer making a remote call per batch.
- Cancel: the cancel command, then after `cancel_grace` `ray.cancel(force=True)` kills the worker.
- A worker or node that dies: the generator raises, the job gets its one Failed (LOST_WORKER). Tasks are
  never retried (`max_retries=0`): a retried job would train twice into one history.
- Placement: heavy jobs take one CPU (Ray queues them when the cluster has none free); light jobs take none
  and are spread over the nodes (SPREAD), so heavy jobs never starve them. `resources` (e.g. a custom
  resource only the worker nodes have) keeps every job off the server's node.

Ray itself is imported only in `start` (and in the worker), so the server runs without it until asked.
Nothing the worker sends is more than Ray's own serialization of JSON-ready dicts and bytes.
"""
from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .artifacts import ArtifactMissing, ArtifactStore
from .executor import MessageQueue, terminal_message
from .fanout import Outgoing
from .messages import Event, Failed
from .worker import CommandReader, error_message, init_option, load_function, train_job

FLUSH_SECONDS = 0.02     # an event waits at most this long for company before its bundle is yielded
LISTEN_SECONDS = 5.0     # one long poll of the mailbox (a job's end closes it at once)
CONNECT_SECONDS = 180.0  # a submit waits this long for Ray to start or connect, then fails the job
ENCODED_HERE = ("boundary", "histograms", "gradients")  # as pool.ENCODED_HERE: the worker encodes their JSON
NICENESS = {"light": 5, "heavy": 15}  # the job's thread, as the local executor's processes (server: 0)
INSTALL_HINT = "the Ray executor needs Ray: pip install 'nnplay[ray]'"


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def is_loopback_address(address: str | None) -> bool:
    """None (start a local instance) or an address on 127.0.0.0/8 / localhost."""
    if not address:
        return True
    host = urlsplit(address if "://" in address else f"ray://{address}").hostname or ""
    return host == "localhost" or host.startswith("127.")


def import_ray(address: str | None = None):
    """`ray`, set up before its first import: no usage reports; on loopback, every address stays 127.0.0.1
    (Ray otherwise resolves 127.0.0.1 to the machine's outward address, which a local cluster never binds)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if is_loopback_address(address):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    return ray


# -- the worker's side: a Ray task per job -----------------------------------------------------------------
class Mailbox:
    """The commands of every running job, by task token (an async actor: each `take` waits without a thread)."""

    def __init__(self):
        self.boxes: dict[str, tuple[list, asyncio.Event]] = {}
        self.closed: dict[str, None] = {}   # tokens of ended jobs (recent ones), so a late put is dropped

    def _box(self, token: str):
        if token not in self.boxes:
            self.boxes[token] = ([], asyncio.Event())
        return self.boxes[token]

    async def put(self, token: str, command: dict) -> None:
        if token in self.closed:
            return
        items, ready = self._box(token)
        items.append(command)
        ready.set()

    async def take(self, token: str, timeout: float) -> list[dict] | None:
        """The commands waiting for the job (at most `timeout` s of waiting); None once the job is closed."""
        if token in self.closed:
            return None
        items, ready = self._box(token)
        if not items:
            try:
                await asyncio.wait_for(ready.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        if token in self.closed:
            return None
        ready.clear()
        taken, items[:] = list(items), []
        return taken

    async def close(self, token: str) -> None:
        box = self.boxes.pop(token, None)
        self.closed[token] = None
        while len(self.closed) > 10_000:
            del self.closed[next(iter(self.closed))]
        if box is not None:
            box[1].set()   # a waiting take returns None now


def _listen(mailbox, token: str, inbox: queue.Queue, stop: threading.Event) -> None:
    """Long-polls the mailbox into the trainer's local queue; a mailbox that is gone (the server) cancels."""
    import ray

    while not stop.is_set():
        try:
            commands = ray.get(mailbox.take.remote(token, LISTEN_SECONDS))
        except Exception:  # noqa: BLE001  the actor died with the server that owned it
            if not stop.is_set():
                inbox.put({"cmd": "cancel"})
            return
        if commands is None:
            return
        for command in commands:
            inbox.put(command)


def _train(spec: dict, train_path: str, inbox: queue.Queue, out: queue.Queue, model_path: str,
           checkpoint_seconds: float, init_path, limits, niceness: int) -> None:
    """The job's thread: train_job with a save that tells the generator a new model file is there."""
    try:   # a thread's own nice value (Linux): the worker's other jobs and processes keep theirs
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (OSError, AttributeError):
        pass

    def save(model, path: str) -> None:
        model.save(path)            # atomic (temp + rename): the generator never reads half a file
        out.put(("model", None))

    try:
        train = load_function(train_path)
        result = train_job(spec, train, lambda e: out.put(("event", e)), CommandReader(inbox), model_path,
                           checkpoint_seconds, init_path, limits, save=save)
        out.put(("end", {"result": result}))
    except Exception as e:  # noqa: BLE001  the job's failure is reported, never raised into Ray
        traceback.print_exc()
        out.put(("end", {"error": error_message(e)}))
    except BaseException as e:  # noqa: BLE001  SystemExit in the job's thread: the job is lost, the worker lives
        out.put(("end", {"error": f"the job's worker thread stopped ({type(e).__name__})"}))


def _wire(event: dict):
    """An event as it travels: frames the server only forwards become [type, epoch, their JSON text]."""
    if event.get("type") in ENCODED_HERE:
        return [event["type"], event.get("epoch"), json.dumps(event, separators=(",", ":"), ensure_ascii=False)]
    return event


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _bundles(out: queue.Queue, model_path: str):
    """What the task yields: the events in bundles (a status change and the end at once), a new model file
    with the bundle after it was saved, and last the end (with the final model)."""
    pending: list = []
    saved = False
    since = 0.0
    while True:
        timeout = max(0.0, since + FLUSH_SECONDS - time.monotonic()) if (pending or saved) else None
        try:
            kind, payload = out.get(timeout=timeout)
        except queue.Empty:
            yield _bundle(pending, saved, model_path)
            pending, saved = [], False
            continue
        if kind == "end":
            if pending:
                yield _bundle(pending, False, model_path)   # the end carries the final model
            end = {"end": payload}
            if "result" in payload:
                model = _read_bytes(model_path)
                if model is not None:
                    end["model"] = model
            yield end
            return
        if not (pending or saved):
            since = time.monotonic()
        if kind == "model":
            saved = True
        else:
            pending.append(_wire(payload))
            if payload.get("type") == "status":   # pause / resume acknowledged: the viewer waits for it
                yield _bundle(pending, saved, model_path)
                pending, saved = [], False


def _bundle(events: list, saved: bool, model_path: str) -> dict:
    bundle: dict = {"events": events}
    if saved:
        model = _read_bytes(model_path)
        if model is not None:
            bundle["model"] = model
    return bundle


def job_task(spec: dict, mailbox, token: str, commands: list[dict], train_path: str, checkpoint_seconds: float,
             init_model: bytes | None, init_layers: list[int] | None, limits, niceness: int):
    """The Ray task of one job (a streaming generator; see the module docstring for what it yields)."""
    inbox: queue.Queue = queue.Queue()
    for command in commands:
        inbox.put(command)    # sent while the job was queued: before its first epoch
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    folder = tempfile.mkdtemp(prefix="nnplay-ray-")   # this worker's own disk: nothing shared with the server
    model_path = os.path.join(folder, "model.npz")
    init_path = None
    if init_model is not None:
        with open(os.path.join(folder, "init.npz"), "wb") as f:
            f.write(init_model)
        init_path = init_option(f.name, init_layers)
    threading.Thread(target=_listen, args=(mailbox, token, inbox, stop), daemon=True,
                     name="nnplay-commands").start()
    threading.Thread(target=_train, daemon=True, name="nnplay-job",
                     args=(spec, train_path, inbox, out, model_path, checkpoint_seconds, init_path, limits,
                           niceness)).start()
    try:
        yield from _bundles(out, model_path)
    finally:
        stop.set()
        mailbox.close.remote(token)
        shutil.rmtree(folder, ignore_errors=True)


# -- the server's side ---------------------------------------------------------------------------------------
@dataclass
class _Job:
    token: str
    generator: object = None                 # ray's ObjectRefGenerator of the task
    ending: tuple | None = None              # ("result" | "error", payload): what the task said last
    cancelling: bool = False
    ended: threading.Event = field(default_factory=threading.Event)   # its terminal message was posted
    thread: threading.Thread | None = None


class RayExecutor:
    name = "ray"
    describe_waits = True   # ray.nodes() asks the cluster

    def __init__(self, address: str | None = None, train_path: str = "engine:train",
                 checkpoint_seconds: float = 2.0, cancel_grace: float = 3.0, resources: dict | None = None,
                 default_lane: str = "heavy", init_options: dict | None = None):
        """`address`: a running cluster's head (host:port, or ray://host:port); None: a Ray instance of this
        server's own on 127.0.0.1 (or the connection this process already has, tests). `resources`: Ray
        resources every job also needs (where jobs may run); `init_options`: more ray.init arguments."""
        if not ray_available():
            raise RuntimeError(INSTALL_HINT)
        self.address = address
        self.train_path, self.checkpoint_seconds, self.cancel_grace = train_path, checkpoint_seconds, cancel_grace
        self.resources = dict(resources or {})
        self.default_lane = default_lane
        self.init_options = dict(init_options or {})
        self.jobs: dict[str, _Job] = {}
        self.lock = threading.Lock()
        self.out = MessageQueue()
        self.artifacts: ArtifactStore | None = None
        self.ready = threading.Event()       # set once Ray is connected (or could not be)
        self.problem: str | None = None      # why it could not be
        self.owns_ray = False                # this executor started the connection: it shuts it down
        self.ray = self.mailbox = self.task = None
        self.cluster_address: str | None = None
        self.stopped = threading.Event()     # shutdown: the connecting thread may end

    # -- life cycle -------------------------------------------------------------------------------
    def start(self, artifacts: ArtifactStore) -> None:
        """Connects in a thread (starting Ray takes seconds): the loop goes on, submits wait for it."""
        self.artifacts = artifacts
        self.out.bind()
        threading.Thread(target=self._connect, daemon=True, name="nnplay-ray-connect").start()

    def _connect(self) -> None:
        try:
            ray = self.ray = import_ray(self.address)
            if not ray.is_initialized():
                ray.init(**self._init_arguments())
                self.owns_ray = True
            self.cluster_address = ray.get_runtime_context().gcs_address
            self.task = ray.remote(job_task)
            self.mailbox = ray.remote(Mailbox).options(num_cpus=0, max_concurrency=10_000).remote()
        except Exception as e:  # noqa: BLE001  every job submitted is failed with this reason
            traceback.print_exc()
            self.problem = f"the Ray cluster could not be reached ({type(e).__name__}: {e})"
        finally:
            self.ready.set()
        if self.owns_ray:
            # Ray's own processes (GCS, raylet) die with the thread that started them (PR_SET_PDEATHSIG is
            # per thread): this one lives until shutdown
            self.stopped.wait()

    def _init_arguments(self) -> dict:
        options = {"namespace": "nnplay", "include_dashboard": False, "configure_logging": True,
                   "logging_level": "warning"}
        if self.address:
            options["address"] = self.address
            if is_loopback_address(self.address) and not self.address.startswith("ray://"):
                options["_node_ip_address"] = "127.0.0.1"
        else:   # a small instance of our own, on loopback only
            options.update(num_cpus=os.cpu_count() or 1, object_store_memory=200 * 2**20,
                           _node_ip_address="127.0.0.1")
        options.update(self.init_options)
        return options

    def describe(self) -> dict:
        """GET /api/health: the executor, the cluster's address and its nodes (Ray's view, asked now)."""
        out: dict = {"executor": self.name, "ray_address": self.cluster_address or self.address, "nodes": []}
        if not self.ready.is_set() or self.problem:
            return out
        try:
            nodes = self.ray.nodes()
        except Exception:  # noqa: BLE001  the cluster went away: health still answers
            return out
        out["nodes"] = [{"node_id": n.get("NodeID", ""), "alive": bool(n.get("Alive")),
                         "address": n.get("NodeManagerAddress", ""),
                         "resources": {k: float(v) for k, v in (n.get("Resources") or {}).items()
                                       if not k.startswith("node:")}} for n in nodes]
        return out

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, job_id: str, spec: dict, commands: list[dict] | None = None, init_from: str | None = None,
               limits=None, init_layers: list[int] | None = None, lane: str | None = None) -> None:
        """Starts the job's task (waits for Ray to be connected: the manager calls this in a thread)."""
        job = _Job(token=f"{job_id}-{uuid.uuid4().hex[:12]}")
        with self.lock:
            self.jobs[job_id] = job
        if not self.ready.wait(CONNECT_SECONDS):
            self.problem = self.problem or f"Ray did not start within {CONNECT_SECONDS:g} s"
        if self.problem:
            self._end(job_id, job, None, failed=self.problem)
            return
        try:
            init_model = None
            if init_from:
                with self.artifacts.open(init_from) as f:   # the bytes travel with the task
                    init_model = f.read()
            lane = lane or self.default_lane
            job.generator = self.task.options(**self._placement(lane), name=f"nnplay-job-{job_id}").remote(
                spec, self.mailbox, job.token, list(commands or []), self.train_path, self.checkpoint_seconds,
                init_model, init_layers, limits, NICENESS.get(lane, NICENESS["heavy"]))
        except (ArtifactMissing, OSError) as e:
            self._end(job_id, job, None, failed=f"the model to start from could not be read: {e}")
            return
        except Exception as e:  # noqa: BLE001  Ray refused the task (the cluster went away)
            self._end(job_id, job, None, failed=f"Ray refused the job ({type(e).__name__}: {e})")
            return
        job.thread = threading.Thread(target=self._read, args=(job_id, job), daemon=True,
                                      name=f"nnplay-ray-reader-{job_id}")
        job.thread.start()

    def _placement(self, lane: str) -> dict:
        options = {"num_returns": "streaming", "max_retries": 0, "retry_exceptions": False}
        if lane == "light":   # no CPU held: never waits behind heavy jobs; spread over the nodes
            options.update(num_cpus=0, scheduling_strategy="SPREAD")
        else:
            options.update(num_cpus=1)
        if self.resources:
            options["resources"] = dict(self.resources)
        return options

    def _read(self, job_id: str, job: _Job) -> None:
        """Forward the task's bundles until it ends; then the job's one terminal message."""
        reason = "the Ray task ended without a result"
        try:
            for ref in job.generator:
                self._take(job_id, job, self.ray.get(ref))
        except Exception as e:  # noqa: BLE001  the task was cancelled, its worker or node died, or it raised
            reason = _ray_reason(e)
        self._end(job_id, job, reason)

    def _take(self, job_id: str, job: _Job, item) -> None:
        if not isinstance(item, dict) or job.ended.is_set():
            return
        model = item.get("model")
        if isinstance(model, bytes) and job.ending is None:
            self.artifacts.put(job_id, model)   # a checkpoint, or the final model before the end is posted
        events = item.get("events")
        if isinstance(events, list) and events and job.ending is None:
            self.out.post_many([Event(job_id, e if isinstance(e, dict) else
                                      Outgoing.encoded_as(e[2], type=e[0], epoch=e[1])) for e in events])
        end = item.get("end")
        if isinstance(end, dict) and job.ending is None:
            if isinstance(end.get("result"), dict):
                job.ending = ("result", end["result"])
            else:
                job.ending = ("error", {"message": str(end.get("error") or "training failed")})

    def _end(self, job_id: str, job: _Job, reason: str | None, failed: str | None = None) -> None:
        """Post the job's one terminal message (nothing after it, nor after a shutdown)."""
        with self.lock:
            if job.ended.is_set():
                return
            job.ended.set()
            if self.jobs.get(job_id) is job:
                del self.jobs[job_id]
        if failed is not None:
            self.out.post(Failed(job_id, failed))
        else:
            self.out.post(terminal_message(job_id, job.ending, job.cancelling, reason, self.artifacts))

    def send_command(self, job_id: str, command: dict) -> bool:
        job = self.jobs.get(job_id)
        if job is None or job.ended.is_set() or job.ending is not None or job.generator is None:
            return False
        self.mailbox.put.remote(job.token, command)
        return True

    async def cancel(self, job_id: str) -> None:
        """The cancel command; after `cancel_grace`, ray.cancel(force=True) (the worker process is killed)."""
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.cancelling = True
        if job.generator is None:
            return
        self.mailbox.put.remote(job.token, {"cmd": "cancel"})
        if await asyncio.to_thread(job.ended.wait, self.cancel_grace):
            return
        try:
            self.ray.cancel(job.generator, force=True)
        except Exception:  # noqa: BLE001  it ended meanwhile
            pass
        if not await asyncio.to_thread(job.ended.wait, 5.0):   # Ray never reported the end: say it ourselves
            self._end(job_id, job, f"ray.cancel did not report the task's end within 5 s")

    def messages(self):
        return self.out.batches()

    async def shutdown(self) -> None:
        """Kill every job's task (no terminal messages are owed now) and leave Ray if this executor joined it."""
        with self.lock:
            jobs = list(self.jobs.values())
            self.jobs.clear()
            for job in jobs:
                job.ended.set()
        for job in jobs:
            if job.generator is not None:
                try:
                    self.ray.cancel(job.generator, force=True)
                except Exception:  # noqa: BLE001
                    pass
        for job in jobs:
            if job.thread is not None:
                await asyncio.to_thread(job.thread.join, 5.0)
        if self.ready.is_set() and self.mailbox is not None:
            try:
                self.ray.kill(self.mailbox)
            except Exception:  # noqa: BLE001
                pass
        if self.owns_ray:
            await asyncio.to_thread(self.ray.shutdown)
        self.stopped.set()


def _ray_reason(e: BaseException) -> str:
    """Why a task ended without its last bundle, in a few words (for LOST_WORKER / STOPPED_WORKER)."""
    name = type(e).__name__
    if name == "TaskCancelledError":
        return "ray.cancel"
    if name == "WorkerCrashedError":
        return "its Ray worker process died"
    if name in ("NodeDiedError", "ActorDiedError", "OwnerDiedError", "ObjectLostError"):
        return f"Ray: {name}"
    text = str(e).strip().splitlines()
    return f"{name}: {text[-1][:200]}" if text else name
