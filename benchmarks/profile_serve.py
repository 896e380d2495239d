"""`nnplay serve` under cProfile (CPU-time clock, the event loop's thread): SIGUSR1 writes the stats to OUT.

Usage: python benchmarks/profile_serve.py OUT serve --host 127.0.0.1 --port P ...   (classroom.py --profile OUT)
"""
from __future__ import annotations

import cProfile
import signal
import sys
import time

from server.cli import main

if __name__ == "__main__":
    out, args = sys.argv[1], sys.argv[2:]
    profile = cProfile.Profile(time.process_time)

    def dump(*_) -> None:
        profile.disable()
        profile.dump_stats(out)
        profile.enable()

    signal.signal(signal.SIGUSR1, dump)
    profile.enable()
    sys.exit(main(args))
