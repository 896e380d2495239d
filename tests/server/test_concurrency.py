"""Admission holds under concurrency: 60 simultaneous POST /api/jobs never run more than `workers_jobs`
workers nor keep more than `max_queued_jobs` waiting; the excess gets 429 and leaves nothing behind."""
from __future__ import annotations

import asyncio
import concurrent.futures

import httpx

from server.main import create_app
from server.settings import Settings
from server_support import tiny_spec

RUNNING, QUEUED, CREATES = 2, 5, 60


def run(coro):
    # a fresh loop in its own thread: another suite (Playwright's sync API) may own this thread's loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout=120)).result()


class Watch:
    """Samples, on every turn of the event loop, the workers started and not yet reaped (the executor's
    processes) and the jobs the API reports as queued (live jobs in status queued)."""

    def __init__(self, manager):
        self.manager = manager
        self.max_running = self.max_queued = 0

    def sample(self) -> None:
        running = len(self.manager.executor.workers)
        queued = sum(1 for live in self.manager.live.values() if live.status == "queued")
        self.max_running, self.max_queued = max(self.max_running, running), max(self.max_queued, queued)

    async def forever(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0)


def test_sixty_parallel_creates_never_pass_the_running_or_queue_limit(tmp_path):
    # one queue (the tiny jobs are light: with lanes open they would run beside the workers)
    settings = Settings(home=tmp_path / "home", workers_jobs=RUNNING, max_queued_jobs=QUEUED, max_light_jobs=0,
                        pool_processes=0, checkpoint_seconds=0.0, allowed_hosts=["testserver"])
    app = create_app(settings)

    async def body():
        async with app.router.lifespan_context(app):
            manager = app.state.manager
            submit = manager.executor.submit
            watch = Watch(manager)

            def counted_submit(*args, **kwargs):
                submit(*args, **kwargs)
                watch.sample()  # the moment a worker starts

            manager.executor.submit = counted_submit
            sampler = asyncio.create_task(watch.forever())
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
                replies = await asyncio.gather(*(http.post("/api/jobs", json=tiny_spec(epochs=100_000))
                                                 for _ in range(CREATES)))
                watch.sample()
                codes = sorted(r.status_code for r in replies)
                listed = (await http.get("/api/jobs", params={"limit": 500})).json()
                for r in replies:
                    if r.status_code == 201:
                        await http.post(f"/api/jobs/{r.json()['id']}/cancel")
            sampler.cancel()
            return codes, listed, watch

    codes, listed, watch = run(body())
    assert codes.count(201) == RUNNING + QUEUED and codes.count(429) == CREATES - RUNNING - QUEUED
    assert watch.max_running <= RUNNING and watch.max_queued <= QUEUED
    # a refused create stores nothing: only the admitted jobs exist
    assert listed["total"] == RUNNING + QUEUED
    print(f"max running {watch.max_running}/{RUNNING}, max queued {watch.max_queued}/{QUEUED}, "
          f"{codes.count(429)} refused with 429")


def test_sixty_parallel_light_creates_never_pass_the_light_lane_or_the_queue(tmp_path):
    """With lanes open the tiny job is light: at most max_light_jobs train (in the warm pool), the rest wait."""
    light = 10
    settings = Settings(home=tmp_path / "home", workers_jobs=RUNNING, max_queued_jobs=QUEUED, max_light_jobs=light,
                        pool_processes=1, checkpoint_seconds=0.0, allowed_hosts=["testserver"])
    app = create_app(settings)

    async def body():
        async with app.router.lifespan_context(app):
            manager = app.state.manager
            most = 0
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
                replies = []
                for batch in range(6):   # 10 at a time, sampling the pool's running jobs between them
                    replies += await asyncio.gather(*(http.post("/api/jobs", json=tiny_spec(epochs=100_000))
                                                      for _ in range(10)))
                    most = max(most, len(manager.executor.light), len(manager.admission.lanes["light"].running))
                codes = sorted(r.status_code for r in replies)
                heavy_started = len(manager.executor.heavy.workers)
                for r in replies:
                    if r.status_code == 201:
                        await http.post(f"/api/jobs/{r.json()['id']}/cancel")
            return codes, most, heavy_started

    codes, most, heavy_started = run(body())
    assert codes.count(201) == light + QUEUED and codes.count(429) == CREATES - light - QUEUED
    assert most <= light and heavy_started == 0
