"""WS /ws/jobs/{id}?since=N: status, epoch replay from storage, then live events, then done.

The API token never travels in the URL (URLs end up in logs and browser history): a client offers the
subprotocols ["nnplay", "nnplay.token.<token>"] (the server accepts "nnplay"), or sends
{"type": "auth", "token": ...} first, or (Python clients) an Authorization: Bearer header. Watching needs
no token; commands do.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from engine.errors import SpecError

from ..deps import ManagerDep, SettingsDep, bearer_token, token_matches
from ..jobs.fanout import SlowClientError, encoded
from ..jobs.manager import JobError

router = APIRouter(tags=["stream"])
log = logging.getLogger("nnplay.stream")

SUBPROTOCOL = "nnplay"
TOKEN_SUBPROTOCOL = "nnplay.token."
MAX_SINCE = 2**63 - 1          # SQLite's largest integer: epochs are stored as one
SINCE = re.compile(r"[0-9]{1,19}")
# how long a dropped slow client gets to read up to its close frame (it holds no buffer meanwhile, and
# uvicorn's keepalive ping ends a peer that never reads sooner)
CLOSE_WAIT_SECONDS = 60.0
NO_TOKEN = ('commands need the API token: offer the subprotocols ["nnplay", "nnplay.token.<token>"] or send '
            '{"type": "auth", "token": "<token>"} first (?token= in the URL is not accepted)')


class BadRequest(ValueError):
    """A malformed query parameter: answered with an error message naming it, then close 4400."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_since(raw: str | None) -> int:
    """?since= as an epoch number (0 when absent); BadRequest unless a whole number 0..MAX_SINCE."""
    if raw is None or raw == "":
        return 0
    if not SINCE.fullmatch(raw) or int(raw) > MAX_SINCE:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise BadRequest("since", f"must be a whole number of epochs from 0 to {MAX_SINCE}, got {shown!r}")
    return int(raw)


def offered_token(websocket: WebSocket) -> str:
    """The token of a 'nnplay.token.<token>' subprotocol, else the Bearer header's, else ""."""
    for name in websocket.scope.get("subprotocols") or []:
        if name.startswith(TOKEN_SUBPROTOCOL):
            return name[len(TOKEN_SUBPROTOCOL):]
    return bearer_token(websocket)


@dataclass
class Session:
    """One socket: where it sends, whether it may send commands, how long a send may wait."""
    websocket: WebSocket
    expected_token: str | None
    authorized: bool
    send_timeout: float

    async def send(self, message: dict) -> None:
        """Send, or raise SlowClientError when the client has read nothing for `send_timeout` seconds
        (the server's socket buffer is full, so the send cannot go out)."""
        try:  # asyncio.timeout, not wait_for: no task per message (a class's viewers send ~2000 a second)
            async with asyncio.timeout(self.send_timeout):
                await self.websocket.send_text(encoded(message))
        except TimeoutError:
            raise SlowClientError(f"client too slow: read nothing for {self.send_timeout:g} s "
                                  "(slow_client_seconds)") from None

    async def refuse(self, message: str, **extra) -> None:
        await self.send({"type": "error", "message": message, "recoverable": True, **extra})


async def _receive(websocket: WebSocket) -> str | None:
    """The next text frame; None for a binary one; WebSocketDisconnect when the client leaves."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    return message.get("text")


async def _authenticate(session: Session, message: dict) -> None:
    if token_matches(str(message.get("token", "")), session.expected_token):
        session.authorized = True
        await session.send({"type": "auth", "authorized": True})
    else:
        await session.refuse("auth: the API token is wrong", fields=["token"])


async def _receive_commands(session: Session, manager, job_id: str) -> None:
    """Commands (and the auth message) the client sends; answers only when one is refused."""
    while True:
        text = await _receive(session.websocket)
        if text is None:
            await session.refuse("commands must be JSON text frames, not binary ones")
            continue
        try:
            command = json.loads(text)
        except ValueError:
            await session.refuse("commands must be JSON objects")
            continue
        if isinstance(command, dict) and command.get("type") == "auth":
            await _authenticate(session, command)
            continue
        if not session.authorized:
            await session.refuse(NO_TOKEN)
            continue
        try:  # the same check as POST /api/jobs/{id}/commands: engine.control.check_command
            await manager.send_command(job_id, command)
        except SpecError as e:
            await session.refuse(str(e), fields=[p.path for p in e.problems])
        except JobError as e:
            await session.refuse(e.message)


async def _replay(session: Session, manager, job_id: str, since: int, page: int) -> int:
    """Send the stored epochs after `since`, one page at a time; returns the last epoch sent (or since)."""
    last = since
    while True:
        records = await manager.history(job_id, last, page)
        for record in records:
            await session.send({"type": "epoch", **record})
        if records:
            last = records[-1]["epoch"]
        if len(records) < page:
            return last


async def _send_live(session: Session, sub) -> None:
    while True:
        for message in await sub.next_batch():
            await session.send(message)
            # a recoverable error (a set_weight outside the model, a skipped checkpoint) is news, not the end
            if message["type"] == "done" or (message["type"] == "error" and not message.get("recoverable")):
                return


async def _stream(session: Session, manager, job_id: str, since: int, settings) -> None:
    sub, live = manager.subscribe(job_id, settings.max_client_messages)  # subscribe first, then replay: no gap
    tasks = [asyncio.create_task(_receive_commands(session, manager, job_id))]
    try:
        job = await manager.get_job(job_id)
        await session.send(manager.status_message(job))
        sub.start_live(await _replay(session, manager, job_id, since, settings.history_page))  # no duplicates
        if live:
            tasks.append(asyncio.create_task(_send_live(session, sub)))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise a disconnect or a slow-client error
        else:
            await session.send({"type": "done", "status": job["status"], "outcome": job["outcome"],
                                "message": job["message"]})
        await session.websocket.close()
    finally:
        manager.unsubscribe(job_id, sub)
        for task in tasks:  # neither may outlive the socket (a sender would wait on the buffer forever)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@router.websocket("/ws/jobs/{job_id}")
async def stream_job(websocket: WebSocket, job_id: str, manager: ManagerDep, settings: SettingsDep) -> None:
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    session = Session(websocket, settings.api_token, token_matches(offered_token(websocket), settings.api_token),
                      settings.slow_client_seconds)
    try:
        since = parse_since(websocket.query_params.get("since"))
        await manager.get_job(job_id)
        await _stream(session, manager, job_id, since, settings)
    except BadRequest as e:
        await _close_with_error(websocket, {"type": "error", "message": str(e), "fields": [e.field]}, 4400)
    except JobError as e:
        await _close_with_error(websocket, {"type": "error", "message": e.message}, 4404)
    except SlowClientError as e:
        log.info("dropped a slow viewer of job %s: %s", job_id, e)
        with contextlib.suppress(Exception):  # the close frame waits behind what the client has not read
            await asyncio.wait_for(websocket.close(code=1008, reason=str(e)[:120]), CLOSE_WAIT_SECONDS)
    except (WebSocketDisconnect, RuntimeError):
        pass


async def _close_with_error(websocket: WebSocket, message: dict, code: int) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json(message)
        await websocket.close(code=code)
