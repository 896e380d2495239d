"""The BLAS thread policy (server/jobs/threads.py): the free cores for a job training alone, one thread per job
while several train; applied when a job starts and re-applied to the running workers when a job starts or ends
and as the machine's load moves."""
from __future__ import annotations

import ctypes
import queue

import pytest

from server.cli import build_parser
from server.jobs.executor import LocalProcessExecutor, _Worker
from server.jobs.threads import (AUTO, THREADS_COMMAND, _loaded_openblas, job_threads, others_busy, parse_threads,
                                 set_blas_threads)
from server.jobs.worker import CommandReader
from server.settings import Settings


@pytest.mark.parametrize("cores, running, expected", [(2, 1, 2), (2, 2, 1), (2, 3, 1), (8, 1, 8), (1, 1, 1),
                                                      (8, 4, 1)])
def test_auto_gives_a_lone_job_every_core_and_one_thread_each_while_several_train(cores, running, expected):
    assert job_threads(AUTO, cores, running) == expected


@pytest.mark.parametrize("cores, busy, expected", [(2, 0.3, 2), (2, 0.7, 1), (2, 9.0, 1), (8, 3.2, 5), (8, 0.0, 8)])
def test_auto_gives_a_lone_job_only_the_cores_other_processes_leave_free(cores, busy, expected):
    assert job_threads(AUTO, cores, 1, busy) == expected


def test_a_fixed_count_is_the_same_whatever_else_trains_or_runs():
    assert [job_threads(3, 2, running, busy) for running, busy in ((1, 0), (2, 0), (5, 0), (1, 12))] == [3] * 4


def test_others_busy_is_the_load_average_less_this_servers_own_threads(monkeypatch):
    monkeypatch.setattr("os.getloadavg", lambda: (3.5, 1.0, 1.0))
    assert others_busy(2) == 1.5 and others_busy(5) == 0.0


@pytest.mark.parametrize("text, value", [("auto", AUTO), (" AUTO ", AUTO), ("1", 1), ("4", 4), (2, 2)])
def test_parse_threads_reads_auto_or_a_count(text, value):
    assert parse_threads(text) == value


@pytest.mark.parametrize("bad", ["0", "-1", "two", "", "1.5", True])
def test_parse_threads_refuses_anything_else_by_name(bad):
    with pytest.raises(ValueError, match="threads must be 'auto' or a whole number"):
        parse_threads(bad)


def test_serve_takes_threads_and_settings_read_nnplay_threads(monkeypatch, capsys):
    assert build_parser().parse_args(["serve"]).threads is None             # default: the settings' value
    assert build_parser().parse_args(["serve", "--threads", "1"]).threads == 1
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--threads", "0"])
    assert "threads must be 'auto'" in capsys.readouterr().err
    monkeypatch.delenv("NNPLAY_THREADS", raising=False)
    assert Settings().threads == AUTO
    monkeypatch.setenv("NNPLAY_THREADS", "2")
    assert Settings().threads == 2 and Settings().server_limits()["threads"] == 2


class FakeProcess:
    def __init__(self, alive=True):
        self.alive = alive

    def is_alive(self):
        return self.alive


def worker(threads: int, alive: bool = True) -> _Worker:
    return _Worker(FakeProcess(alive), queue.Queue(), queue.Queue(), threads=threads)


def sent(w: _Worker) -> list[dict]:
    out = []
    while not w.commands.empty():
        out.append(w.commands.get_nowait())
    return out


def idle_executor(**kw) -> LocalProcessExecutor:
    executor = LocalProcessExecutor(cores=2, **kw)
    executor._busy = lambda own_threads: 0.0           # an otherwise idle machine
    return executor


def test_executor_brings_a_lone_two_thread_job_down_to_one_when_a_second_starts_and_back_when_it_ends():
    executor = idle_executor(threads=AUTO)
    first = executor.workers["a"] = worker(threads=2)
    executor._rebalance()
    assert sent(first) == []                                               # alone: keeps both cores
    second = executor.workers["b"] = worker(threads=1)
    executor._rebalance()
    assert sent(first) == [{"cmd": THREADS_COMMAND, "threads": 1}] and sent(second) == []
    second.finished = True                                                 # its result arrived
    executor._rebalance()
    assert sent(first) == [{"cmd": THREADS_COMMAND, "threads": 2}] and first.threads == 2


def test_executor_with_a_fixed_count_never_sends_thread_commands():
    executor = idle_executor(threads=1)
    workers = [worker(threads=1) for _ in range(3)]
    executor.workers.update(zip("abc", workers))
    executor._rebalance()
    workers[1].process.alive = False
    executor._rebalance()
    assert all(sent(w) == [] for w in workers)


def test_worker_applies_the_thread_command_itself_and_the_trainer_never_sees_it():
    commands = queue.Queue()
    for c in ({"cmd": "pause"}, {"cmd": THREADS_COMMAND, "threads": 1}, {"cmd": "resume"}):
        commands.put(c)
    reader = CommandReader(commands, parent_pid=__import__("os").getppid())
    assert reader() == [{"cmd": "pause"}, {"cmd": "resume"}]


def openblas_threads() -> int | None:
    for path in _loaded_openblas():
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
            getter = getattr(lib, name, None)
            if getter is not None:
                return getter()
    return None


def test_set_blas_threads_changes_the_loaded_openblas_at_run_time():
    import numpy as np
    np.ones((2, 2)) @ np.ones((2, 2))                                      # OpenBLAS is loaded and initialised
    before = openblas_threads()
    if before is None:
        pytest.skip("numpy here is not linked to OpenBLAS")
    try:
        assert set_blas_threads(2) and openblas_threads() == 2
        assert set_blas_threads(1) and openblas_threads() == 1
    finally:
        set_blas_threads(before)


def test_the_thread_command_gives_the_engine_batch_split_the_threads_and_blas_one_each():
    """A job's N threads are N row blocks of each heavy layer (engine/parallel.py), each with one BLAS thread:
    two BLAS pools called at once would put 2N threads on N cores."""
    import numpy as np

    from engine import parallel
    np.ones((2, 2)) @ np.ones((2, 2))
    commands = queue.Queue()
    commands.put({"cmd": THREADS_COMMAND, "threads": 2})
    reader = CommandReader(commands, parent_pid=__import__("os").getppid())
    try:
        assert reader() == []
        assert parallel.threads() == 2 and parallel.SPLIT.parts(64, 10**6) == [slice(0, 32), slice(32, 64)]
        assert openblas_threads() in (None, 1)
    finally:
        parallel.set_threads(1)
    assert parallel.SPLIT.parts(64, 10**6) == [slice(0, 64)]
