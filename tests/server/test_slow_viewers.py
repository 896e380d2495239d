"""A viewer that reads nothing is dropped with close code 1008 (after `slow_client_seconds`, 1 s here) while
the others keep streaming; a subscriber's buffer is bounded, so the server's memory stays flat."""
from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.jobs.fanout import SlowClientError, Subscriber
from server.jobs.storage import Storage
from server_support import LiveServer, tiny_spec

pytestmark = pytest.mark.timeout(120)
EPOCHS = 8000  # ~10 MB of history: more than the socket buffers between server and client hold


def test_a_subscriber_far_behind_is_emptied_and_told_it_is_too_slow():
    async def body():
        sub = Subscriber(max_pending=100)
        for epoch in range(1, 100_001):
            sub.push({"type": "epoch", "epoch": epoch})
            sub.push({"type": "boundary", "epoch": epoch})
            assert len(sub.pending) <= 101
        assert not sub.pending  # emptied when it overflowed, and nothing buffered since
        with pytest.raises(SlowClientError, match="max_client_messages"):
            await sub.next_batch()
    asyncio.run(body())


def test_a_behind_subscriber_keeps_every_gradient_through_time_frame_but_only_the_newest_boundary():
    async def body():
        sub = Subscriber(100)
        for epoch in (0, 1, 2):
            sub.push({"type": "time_gradients", "epoch": epoch, "layers": []})
            sub.push({"type": "boundary", "epoch": epoch})
            sub.push({"type": "epoch", "epoch": epoch + 1})
        return await sub.next_batch()

    batch = asyncio.run(body())
    assert [m["epoch"] for m in batch if m["type"] == "time_gradients"] == [0, 1, 2]   # a series: one line each
    assert [m["epoch"] for m in batch if m["type"] == "boundary"] == [2]               # a picture: the newest
    assert [m["epoch"] for m in batch if m["type"] == "epoch"] == [1, 2, 3]

def stalled_socket(port: int) -> socket.socket:
    """A TCP connection with a tiny receive buffer, so the server's buffers fill as soon as we stop reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


def seed_long_history(home, epochs: int = EPOCHS) -> str:
    """A finished job with `epochs` stored records (about 1.3 kB each), written before the server starts."""
    storage = Storage(home / "nnplay.sqlite3")
    job_id = storage.create_job(tiny_spec(epochs=epochs), epochs)["id"]
    rng = random.Random(0)  # random digits: the stream must not compress to nothing
    for start in range(1, epochs + 1, 5000):
        records = [{"epoch": e, **{f"metric_{k}": rng.random() for k in range(60)}}
                   for e in range(start, min(epochs, start + 4999) + 1)]
        storage.write_batch([(job_id, r) for r in records], [])
    storage.update_job(job_id, status="completed", epoch=epochs, outcome="completed", message="seeded")
    storage.close()
    return job_id


def test_a_viewer_that_reads_nothing_is_dropped_with_1008_and_others_get_everything(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    job_id = seed_long_history(home)
    server = LiveServer(home, {"NNPLAY_SLOW_CLIENT_SECONDS": "1"}).start()
    try:
        url = f"{server.ws_url}/ws/jobs/{job_id}"
        # max_queue=1: the client library stops reading the socket once one message waits unread;
        # no compression: the bytes on the wire are the bytes sent, so the buffers fill
        with connect(url, sock=stalled_socket(server.port), max_queue=1, compression=None, open_timeout=10,
                     proxy=None) as slow:
            messages: list[dict] = []

            def watch() -> None:
                with connect(url, open_timeout=10, proxy=None) as ws:
                    messages.extend(json.loads(m) for m in ws)

            fast = threading.Thread(target=watch)
            fast.start()  # a viewer that reads, at the same time: every epoch, then done
            fast.join(60)
            time.sleep(2)  # the slow one has read nothing all along
            received = 0
            with pytest.raises(ConnectionClosed):
                while True:
                    slow.recv(timeout=15)  # what was already buffered, then the close frame
                    received += 1
            assert slow.close_code == 1008 and "slow_client_seconds" in slow.close_reason
            assert received < EPOCHS  # dropped part way, not after the whole replay
        assert [m["epoch"] for m in messages if m["type"] == "epoch"] == list(range(1, EPOCHS + 1))
        assert messages[-1]["type"] == "done"
        with server.client() as http:
            assert http.get("/api/health").status_code == 200
    finally:
        server.stop()
