"""Loaded models, cached by (path, modification time) so a re-written checkpoint is picked up.

A damaged file (empty, truncated, not a model) is a SpecError from engine.load_model (422, "model file is
damaged"); its declared network is checked against the server's engine limits before it is built.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

import engine

from .jobs.errors import JobError

_lock = threading.Lock()
_cache: OrderedDict[tuple, object] = OrderedDict()
MAX_MODELS = 8
_limits = None  # the server's engine.Limits (set by the app's lifespan); None: engine.DEFAULT_LIMITS


def use_limits(limits) -> None:
    """Check model files against these limits (the ones the server validates specs under)."""
    global _limits
    _limits = limits


def load_cached(path: str, limits=None):
    """The model saved at `path` (engine.load_model), reloaded when the file changes. Call from a thread."""
    try:
        key = (path, os.stat(path).st_mtime_ns)
    except FileNotFoundError:  # deleted between the route's check and here
        raise JobError(404, "the model file is gone (the job was deleted?)") from None
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        model = engine.load_model(path, limits=limits or _limits)
    except FileNotFoundError:
        raise JobError(404, "the model file is gone (the job was deleted?)") from None
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
