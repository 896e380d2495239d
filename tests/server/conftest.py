"""Fixtures for the server tests live in server_support (a unique module name: every conftest.py is
imported as `conftest`, so test modules cannot import helpers from it)."""
from server_support import *  # noqa: F401,F403
from ray_cluster import ray_cluster  # noqa: E402,F401  (session-scoped: one Ray cluster for every module)
