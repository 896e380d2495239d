"""Fixtures for the browser tests live in browser_support (a unique module name: every conftest.py is
imported as `conftest`, so test modules cannot import helpers from it)."""
from browser_support import *  # noqa: F401,F403
