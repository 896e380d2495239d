"""WS /ws/jobs/{id}?since=N: status, epoch replay from storage, then live events, then done."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from engine.errors import SpecError

from ..deps import ManagerDep, token_ok
from ..jobs.fanout import SlowClientError
from ..jobs.manager import JobError

router = APIRouter(tags=["stream"])
log = logging.getLogger("nnplay.stream")


async def _receive_commands(websocket: WebSocket, manager, job_id: str, allowed: bool) -> None:
    """Commands the client sends; answers only with an error message when one is refused."""
    while True:
        try:
            command = await websocket.receive_json()
        except ValueError:
            await websocket.send_json({"type": "error", "message": "commands must be JSON objects",
                                       "recoverable": True})
            continue
        if not allowed:
            await websocket.send_json({"type": "error", "recoverable": True,
                                       "message": "commands need the API token (?token= or Authorization header)"})
            continue
        try:  # the same check as POST /api/jobs/{id}/commands: engine.control.check_command
            await manager.send_command(job_id, command)
        except SpecError as e:
            await websocket.send_json({"type": "error", "message": str(e), "recoverable": True,
                                       "fields": [p.path for p in e.problems]})
        except JobError as e:
            await websocket.send_json({"type": "error", "message": e.message, "recoverable": True})


async def _send_live(websocket: WebSocket, sub) -> None:
    while True:
        for message in await sub.next_batch():
            await websocket.send_json(message)
            if message["type"] in ("done", "error"):
                return


@router.websocket("/ws/jobs/{job_id}")
async def stream_job(websocket: WebSocket, job_id: str, manager: ManagerDep, since: int = 0) -> None:
    await websocket.accept()
    try:
        job = await manager.get_job(job_id)
    except JobError as e:
        await websocket.send_json({"type": "error", "message": e.message})
        await websocket.close(code=4404)
        return
    sub, live = manager.subscribe(job_id)  # subscribe first, then replay: no gap
    receiver = asyncio.create_task(_receive_commands(websocket, manager, job_id, token_ok(websocket)))
    try:
        job = await manager.get_job(job_id)
        await websocket.send_json(manager.status_message(job))
        records = await manager.history(job_id, max(0, since))
        for record in records:
            await websocket.send_json({"type": "epoch", **record})
        sub.start_live(records[-1]["epoch"] if records else max(0, since))  # no duplicates
        if live:
            sender = asyncio.create_task(_send_live(websocket, sub))
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise a disconnect or a slow-client error
        else:
            await websocket.send_json({"type": "done", "status": job["status"], "outcome": job["outcome"],
                                       "message": job["message"]})
        await websocket.close()
    except SlowClientError as e:
        with contextlib.suppress(Exception):
            await websocket.send_json({"type": "error", "message": str(e)})
            await websocket.close(code=1013)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        manager.unsubscribe(job_id, sub)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver
