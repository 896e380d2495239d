"""Strict JSON parsing of request bodies, and a separate process for the big ones.

No FastAPI import here: the parse process imports only this module. `json.loads` is one C call that holds
the GIL for as long as it runs (0.4 s of CPU for a 6 MB body of numbers on a busy machine), so a thread
pool alone cannot keep the event loop answering: a body of at least `PROCESS_BYTES` is counted and parsed
in a one-process pool, and only a parsed value comes back (its unpickling costs about a quarter of the
parse; a refused body sends back only the reason).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

PROCESS_BYTES = 256 * 1024   # smaller bodies parse in well under 10 ms: in the calling thread
COUNT_CHUNK = 128 * 1024


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON here: numbers must be finite")


def depth_of(value, limit: int) -> int:
    """Nesting depth of lists/dicts without recursion, stopping once it passes `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (list, dict)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children if isinstance(c, (list, dict)))
    return deepest


def parse_json(body: bytes, max_depth: int) -> tuple[object, str | None]:
    """(value, None) if `body` is acceptable JSON, else (None, why not)."""
    too_deep = f"JSON nested too deeply (limit max_json_depth = {max_depth} levels)"
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        return None, too_deep
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"invalid JSON: {e}"
    if depth_of(value, max_depth) > max_depth:
        return None, too_deep
    return value, None


def count_containers(body: bytes, limit: int) -> str | None:
    """Why `body` holds too many arrays and objects to parse (a bracket inside a string counts too: an
    over-count, never an under-count), None when it is fine. A C-speed byte count, no parse."""
    n = 0
    for start in range(0, len(body), COUNT_CHUNK):  # chunks: the GIL can pass to the event loop in between
        n += body.count(b"[", start, start + COUNT_CHUNK) + body.count(b"{", start, start + COUNT_CHUNK)
        if n > limit:
            return (f"request body has more than {limit:,} JSON arrays and objects (max_json_containers); "
                    f"a drawing or a job spec needs far fewer")
    return None


def check_and_parse(body: bytes, max_depth: int, max_containers: int) -> tuple[object, str | None]:
    """(value, None) or (None, why the body is refused): the container count first, then the parse."""
    problem = count_containers(body, max_containers)
    if problem:
        return None, problem
    return parse_json(body, max_depth)


WATCH_SECONDS = 1.0


def _watch_parent(parent: int) -> None:
    """In the parse process: exit once the server that started it is gone (a pool worker would otherwise
    wait on its queue forever after a kill)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="nnplay-parse-watch").start()


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _process_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:  # spawn: forking a server with threads running is unsafe
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"),
                                        initializer=_watch_parent, initargs=(os.getpid(),))
        return _pool


def _forget_pool() -> None:
    global _pool
    with _pool_lock:
        _pool = None


def parse_body(body: bytes, max_depth: int, max_containers: int) -> tuple[object, str | None]:
    """check_and_parse, in the parse process for a big body (blocks the calling thread, not the GIL)."""
    problem = count_containers(body, max_containers)  # here: a refused body is never shipped
    if problem:
        return None, problem
    if len(body) < PROCESS_BYTES:
        return parse_json(body, max_depth)
    try:
        return _process_pool().submit(parse_json, body, max_depth).result()
    except BrokenProcessPool:  # the parse process died (killed, out of memory): a new one next time
        _forget_pool()
        return parse_json(body, max_depth)


def start() -> None:
    """Start the parse process now (a server's startup), so the first big body does not wait for it."""
    _process_pool().submit(int).result()
