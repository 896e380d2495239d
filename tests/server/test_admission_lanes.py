"""Admission by lane (engine/cost.py decides light or heavy): light jobs run beside heavy ones up to their own
limit and never wait behind a heavy job; every lane's waiting jobs count against one max_queued."""
from __future__ import annotations

import pytest

from server.jobs.admission import Admission
from server.jobs.errors import JobError


def add(adm: Admission, job_id: str, lane: str) -> str:
    lane = adm.reserve(lane)
    adm.admit(job_id, lane)
    return lane


def start_all(adm: Admission) -> list[str]:
    started = []
    while (job_id := adm.next_to_start()) is not None:
        started.append(job_id)
    return started


def test_a_light_job_starts_while_heavy_jobs_fill_every_slot_and_queue():
    adm = Admission(max_running=2, max_queued=3, max_light=4)
    for i in range(5):   # 2 run, 3 wait
        add(adm, f"h{i}", "heavy")
    assert start_all(adm) == ["h0", "h1"]
    assert add(adm, "l0", "light") == "light"      # the queue is full of heavy jobs, the light lane is free
    assert start_all(adm) == ["l0"]
    assert adm.position("h2") == 1 and adm.position("l0") is None


def test_light_jobs_past_their_limit_queue_in_their_own_lane_and_start_first():
    adm = Admission(max_running=1, max_queued=10, max_light=2)
    add(adm, "h0", "heavy")
    add(adm, "h1", "heavy")
    for i in range(3):
        add(adm, f"l{i}", "light")
    assert start_all(adm) == ["l0", "l1", "h0"]
    assert adm.position("l2") == 1 and adm.position("h1") == 1      # positions count within a lane
    adm.release("h0")
    assert start_all(adm) == ["h1"]                                   # a heavy slot takes a heavy job
    adm.release("l0")
    assert start_all(adm) == ["l2"]


def test_waiting_jobs_of_both_lanes_share_max_queued():
    adm = Admission(max_running=1, max_queued=2, max_light=1)
    add(adm, "h0", "heavy")
    add(adm, "l0", "light")
    assert start_all(adm) == ["l0", "h0"]
    add(adm, "h1", "heavy")
    add(adm, "l1", "light")
    with pytest.raises(JobError) as e:
        adm.reserve("light")
    assert e.value.status == 429 and "max_queued_jobs = 2" in e.value.message


def test_without_a_light_lane_every_job_shares_one_queue():
    adm = Admission(max_running=1, max_queued=5, max_light=0)
    add(adm, "h0", "heavy")
    assert add(adm, "l0", "light") == "heavy"
    assert start_all(adm) == ["h0"] and adm.position("l0") == 1
