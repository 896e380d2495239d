"""Train hook for fault tests: engine.train, except that training.seed == 13 segfaults the worker."""
from __future__ import annotations

CRASH_SEED = 13


def train(job_spec, on_event=None, should_stop=None, commands=None, on_model=None, **engine_options):
    import engine

    if job_spec["training"]["seed"] == CRASH_SEED:
        import ctypes

        ctypes.string_at(0)  # SIGSEGV, like a crashing native library
    return engine.train(job_spec, on_event=on_event, should_stop=should_stop, commands=commands, on_model=on_model,
                        **engine_options)
