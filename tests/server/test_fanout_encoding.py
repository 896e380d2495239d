"""The server's per-message costs: a broadcast message is JSON-encoded once for all its viewers, and
`nnplay serve` does not compress socket messages unless NNPLAY_WS_COMPRESSION asks for it."""
from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from server.jobs.fanout import Outgoing, Subscriber, encoded
from server.jobs.live import LiveJob
from tests.live_server import LiveServer


def test_a_broadcast_is_encoded_once_for_every_viewer():
    async def body():
        live = LiveJob("j1")
        subs = [Subscriber() for _ in range(3)]
        live.subscribers.update(subs)
        live.broadcast({"type": "boundary", "epoch": 3, "probabilities": "AAAA"})
        return [(await s.next_batch())[0] for s in subs]

    got = asyncio.run(body())
    assert all(isinstance(m, Outgoing) for m in got) and got[0] is got[1] is got[2]
    texts = [encoded(m) for m in got]
    assert texts[0] is texts[1] is texts[2]                                # one string, made once
    assert json.loads(texts[0]) == {"type": "boundary", "epoch": 3, "probabilities": "AAAA"}


@pytest.mark.parametrize("compression", ["0", "1"])
def test_nnplay_serve_compresses_socket_messages_only_when_asked(tmp_path, compression):
    server = LiveServer(tmp_path / "home", env={"NNPLAY_WS_COMPRESSION": compression}, cli_args=()).start()
    try:
        with server.client() as http:
            job = http.post("/api/jobs", json={"dataset": {"name": "xor"}, "model": {"layers": [
                {"type": "dense", "units": 2, "activation": "softmax"}], "loss": "categorical_crossentropy"},
                "training": {"epochs": 1}}).json()

        async def extensions():
            async with connect(f"{server.ws_url}/ws/jobs/{job['id']}") as ws:   # offers permessage-deflate
                return ws.response.headers.get("Sec-WebSocket-Extensions")

        offered = asyncio.run(extensions())
    finally:
        server.stop()
    assert (offered is not None and "permessage-deflate" in offered) == (compression == "1")
