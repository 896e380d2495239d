"""Loaded models, cached by (path, modification time) so a re-written checkpoint is picked up."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

import engine

_lock = threading.Lock()
_cache: OrderedDict[tuple, object] = OrderedDict()
MAX_MODELS = 8


def load_cached(path: str):
    """The model saved at `path` (engine.load_model), reloaded when the file changes. Call from a thread."""
    key = (path, os.stat(path).st_mtime_ns)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    model = engine.load_model(path)
    with _lock:
        for old in [k for k in _cache if k[0] == path]:
            del _cache[old]
        _cache[key] = model
        while len(_cache) > MAX_MODELS:
            _cache.popitem(last=False)
    return model


_default = None


def default_digit_model():
    global _default
    if _default is None:
        from engine.digits import default_model
        _default = default_model()
    return _default
