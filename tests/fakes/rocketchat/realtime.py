"""The realtime API of the fake server: DDP over a websocket at ``/websocket``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from bot.platforms.rocketchat.types import (
    DDPErrorBody,
    Pong,
)
from tests.fakes.rocketchat.model import (
    DDPConnection,
    Subscription,
    random_id,
)
from tests.fakes.rocketchat.state import ServerState


class Realtime(ServerState):
    """DDP: connect, ping and pong both ways, ``login`` by resume token, subscriptions."""

    # --- DDP ----------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._accept_websockets:
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = DDPConnection(ws, request)
        self._connections.add(conn)
        self.ddp_connections_opened += 1
        writer = asyncio.create_task(self._ws_writer(conn))
        pinger = asyncio.create_task(self._ws_pinger(conn)) if self.ddp_ping_interval else None
        conn.send({"server_id": "0"})
        try:
            async for raw in ws:
                if raw.type != WSMsgType.TEXT:
                    break
                try:
                    data = json.loads(raw.data)
                except ValueError:
                    conn.send({"msg": "error", "reason": "Bad request"})
                    continue
                if isinstance(data, dict):
                    self._ddp_message(conn, data)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(conn)
            conn.queue.put_nowait(None)
            if pinger is not None:
                pinger.cancel()
            writer.cancel()
        return ws

    async def _ws_writer(self, conn: DDPConnection) -> None:
        while True:
            item = await conn.queue.get()
            if item is None or conn.ws.closed:
                return
            try:
                await conn.ws.send_str(item)
            except (ConnectionResetError, RuntimeError):
                return

    async def _ws_pinger(self, conn: DDPConnection) -> None:
        assert self.ddp_ping_interval is not None
        while True:
            await asyncio.sleep(self.ddp_ping_interval)
            if conn.pending_ping is not None:
                conn.missed_pings += 1
                if conn.missed_pings >= 2:
                    await conn.ws.close()
                    return
            conn.pending_ping = random_id(8)
            conn.send({"msg": "ping", "id": conn.pending_ping})

    def _ddp_message(self, conn: DDPConnection, data: dict[str, Any]) -> None:
        kind = data.get("msg")
        if kind == "connect":
            if data.get("version") != "1" and "1" not in data.get("support", []):
                conn.send({"msg": "failed", "version": "1"})
                return
            conn.connected = True
            conn.send({"msg": "connected", "session": random_id()})
        elif not conn.connected:
            conn.send({"msg": "error", "reason": "Must connect first", "offendingMessage": data})
        elif kind == "ping":
            self.pings_received += 1
            reply: Pong = {"msg": "pong"}
            if "id" in data:
                reply["id"] = data["id"]
            conn.send(reply)
        elif kind == "pong":
            self.pongs_received += 1
            conn.pending_ping = None
            conn.missed_pings = 0
            self._notify()
        elif kind == "method":
            self._ddp_method(conn, data)
        elif kind == "sub":
            self._ddp_sub(conn, data)
        elif kind == "unsub":
            sub = conn.subs.pop(str(data.get("id")), None)
            if sub is not None:
                conn.send({"msg": "nosub", "id": sub.id})
        else:
            conn.send({"msg": "error", "reason": "Bad request", "offendingMessage": data})

    @staticmethod
    def _ddp_error(error: int | str, reason: str) -> DDPErrorBody:
        return {
            "isClientSafe": True,
            "error": error,
            "reason": reason,
            "message": f"{reason} [{error}]",
            "errorType": "Meteor.Error",
        }

    def _ddp_method(self, conn: DDPConnection, data: dict[str, Any]) -> None:
        call_id: Any = data.get("id")  # echoed as the client sent it
        method = data.get("method")
        params = data.get("params") or []
        if method == "login":
            resume = params[0].get("resume") if params and isinstance(params[0], dict) else None
            user = self._user_by_token(resume) if isinstance(resume, str) else None
            if user is None:
                conn.send(
                    {
                        "msg": "result",
                        "id": call_id,
                        "error": self._ddp_error(
                            403, "You've been logged out by the server. Please log in again."
                        ),
                    }
                )
                return
            conn.user = user
            self.ddp_logins += 1
            conn.send(
                {
                    "msg": "added",
                    "collection": "users",
                    "id": user.id,
                    "fields": {"username": user.username},
                }
            )
            conn.send(
                {
                    "msg": "result",
                    "id": call_id,
                    "result": {
                        "id": user.id,
                        "token": resume,
                        "tokenExpires": {"$date": self._now() + 90 * 86_400_000},
                        "type": "resume",
                    },
                }
            )
            conn.send({"msg": "updated", "methods": [call_id]})
            return
        conn.send(
            {
                "msg": "result",
                "id": call_id,
                "error": self._ddp_error(404, f"Method '{method}' not found"),
            }
        )

    def _ddp_sub(self, conn: DDPConnection, data: dict[str, Any]) -> None:
        sub_id = str(data.get("id"))
        name = data.get("name")
        params = data.get("params") or []
        if name != "stream-room-messages":
            conn.send(
                {
                    "msg": "nosub",
                    "id": sub_id,
                    "error": self._ddp_error(404, f"Subscription '{name}' not found"),
                }
            )
            return
        target = params[0] if params else None
        room = self.rooms.get(target) if isinstance(target, str) else None
        allowed = conn.user is not None and (
            target == "__my_messages__" or (room is not None and conn.user.id in room.members)
        )
        if not allowed or not isinstance(target, str):
            conn.send(
                {
                    "msg": "nosub",
                    "id": sub_id,
                    "error": self._ddp_error("not-allowed", "Not allowed"),
                }
            )
            return
        conn.subs[sub_id] = Subscription(sub_id, target)
        conn.send({"msg": "ready", "subs": [sub_id]})
