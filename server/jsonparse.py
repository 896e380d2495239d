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
from collections import OrderedDict
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
        packed, problem = _process_pool().submit(_parse_packed, body, max_depth).result()
    except BrokenProcessPool:  # the parse process died (killed, out of memory): a new one next time
        _forget_pool()
        return parse_json(body, max_depth)
    return unpack(packed), problem


def loads(text: str | bytes) -> object:
    """json.loads for stored JSON (a job's spec with inline rows can be megabytes): a big text is parsed in
    the parse process and comes back in pieces, so no single C call holds the GIL for long."""
    if len(text) < PROCESS_BYTES:
        return json.loads(text)
    try:
        return unpack(_process_pool().submit(_loads_packed, text).result())
    except BrokenProcessPool:
        _forget_pool()
        return json.loads(text)


MEMO_ENTRIES = 8   # big stored texts (job specs with inline rows) kept decoded; each is read again and again
_memo: "OrderedDict[int, tuple[str | bytes, object]]" = OrderedDict()
_memo_lock = threading.Lock()


def loads_shared(text: str | bytes) -> object:
    """`loads` for a stored text that is read again and again (a job's spec: every read of the job, its
    create and cancel answers): a big text decoded before gives the same value again, without a parse.
    The value is shared between callers: read it, never change it."""
    if len(text) < PROCESS_BYTES:
        return json.loads(text)
    key = hash(text)
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None and hit[0] == text:   # the same text, not only the same hash
            _memo.move_to_end(key)
            return hit[1]
    value = loads(text)
    _remember(key, text, value)
    return value


def dumps_shared(value) -> str:
    """`dumps`, and a big text is remembered as `value`'s, so reading it back (`loads_shared`) parses nothing."""
    text = dumps(value)
    if len(text) >= PROCESS_BYTES:
        _remember(hash(text), text, value)
    return text


def _remember(key: int, text: str | bytes, value) -> None:
    with _memo_lock:
        _memo[key] = (text, value)
        _memo.move_to_end(key)
        while len(_memo) > MEMO_ENTRIES:
            _memo.popitem(last=False)


# -- big values in pieces: each json.loads / json.dumps call handles about PIECE_VALUES numbers, a few ms
# of C that holds the GIL; the event loop thread gets it back between pieces (a 5 MB spec in one call: 0.3 s)
PIECE_VALUES = 10_000


class Pieces:
    """A long list as the JSON text of one slice at a time (made in the parse process, read back by `unpack`
    a piece per call), and the whole list's text joined from them: storing a spec then writes the text the
    parse process wrote, with none of the encoding's CPU in the server (0.3 s for 200,000 numbers on a loaded
    machine). JSON, not pickle: the server never unpickles what another process hands it."""

    def __init__(self, items: list):
        step = _piece_length(items)
        self.parts = [json.dumps(items[i:i + step]) for i in range(0, len(items), step)]
        # json.dumps(items) exactly: "[" + ", ".join(each item) + "]", from the pieces' own text
        self.text = "[" + ", ".join(part[1:-1] for part in self.parts) + "]"


KNOWN_TEXTS = 16   # lists whose JSON text is known: the long lists of the latest bodies and specs
_texts: "OrderedDict[int, tuple[list, str]]" = OrderedDict()


def _known_text(value: list) -> str | None:
    """The JSON text of a list `unpack` made, while the list is the same object (nothing changes the lists
    of a parsed body: a spec is read, never edited)."""
    with _memo_lock:
        hit = _texts.get(id(value))
    return hit[1] if hit is not None and hit[0] is value else None


def _learn_text(value: list, text: str) -> None:
    with _memo_lock:
        _texts[id(value)] = (value, text)
        _texts.move_to_end(id(value))
        while len(_texts) > KNOWN_TEXTS:
            _texts.popitem(last=False)


def _piece_length(items: list) -> int:
    """Items per piece: PIECE_VALUES numbers, counting a row by its length (row 0's: rows are alike)."""
    first = items[0] if items else None
    width = len(first) if isinstance(first, (list, tuple)) else 1
    return max(1, PIECE_VALUES // max(1, width))


def pack(value):
    """`value` with each long list inside its objects replaced by Pieces (short lists are walked)."""
    if isinstance(value, dict):
        return {k: pack(v) for k, v in value.items()}
    if isinstance(value, list):
        return Pieces(value) if len(value) > _piece_length(value) else [pack(v) for v in value]
    return value


def unpack(value):
    """The inverse of `pack`, one piece per json.loads."""
    if isinstance(value, Pieces):
        out: list = []
        for part in value.parts:
            out.extend(json.loads(part))
        _learn_text(out, value.text)
        return out
    if isinstance(value, dict):
        return {k: unpack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unpack(v) for v in value]
    return value


def _parse_packed(body: bytes, max_depth: int) -> tuple[object, str | None]:
    value, problem = parse_json(body, max_depth)   # in the parse process
    return pack(value), problem


def _loads_packed(text: str | bytes):
    return pack(json.loads(text))


def dumps(value) -> str:
    """The text json.dumps(value) gives, written a piece at a time (long lists in slices of PIECE_VALUES
    numbers), so storing a big spec never holds the GIL for long."""
    return "".join(_dump_parts(value))


def _dump_parts(value):
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield (", " if i else "") + json.dumps(key) + ": "
            yield from _dump_parts(item)
        yield "}"
    elif isinstance(value, list) and (known := _known_text(value)) is not None:
        yield known
    elif isinstance(value, (list, tuple)) and len(value) > _piece_length(value):
        step = _piece_length(value)
        yield "["
        for i in range(0, len(value), step):
            yield (", " if i else "") + json.dumps(list(value[i:i + step]))[1:-1]
        yield "]"
    else:
        yield json.dumps(value)


def start() -> None:
    """Start the parse process now (a server's startup), so the first big body does not wait for it."""
    _process_pool().submit(int).result()
