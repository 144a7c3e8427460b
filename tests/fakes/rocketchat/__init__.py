"""A fake Rocket.Chat server (REST API v1 and the realtime DDP API) for end-to-end tests.

Written from Rocket.Chat's public API documentation and the behaviour of its REST layer:

- REST under ``/api/v1/``: ``X-Auth-Token`` / ``X-User-Id`` authentication (401
  ``{"status": "error", "message": "You must be logged in to do this."}``), error bodies
  ``{"success": false, "error": "<reason> [<errorType>]", "errorType": "<errorType>"}`` with HTTP
  400, 404 ``{"status": "error", "message": "API endpoint does not exist"}`` for unknown routes.
- The REST rate limiter: a fixed window per route and client IP; the server's default is 10 calls
  per 60,000 ms (settings ``API_Enable_Rate_Limiter_Limit_Calls_Default`` /
  ``..._Time_Default``); users with a role holding ``api-bypass-rate-limit`` (admin, bot, app by
  default) are not limited. Limited answers carry ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch milliseconds); a refused call is a
  429 ``{"success": false, "error": "Error, too many requests. Please slow down. You must wait N
  seconds before trying this endpoint again."}``.
- ``chat.sendMessage`` accepts a client-chosen ``_id``; for an ``_id`` that already exists the
  real server stores nothing and its REST layer fails while normalising the missing result: HTTP
  400 ``{"success": false, "error": "Cannot read properties of undefined (reading 'starred')"}``
  (no ``errorType``). The fake answers exactly that.
- ``channels.history`` / ``groups.history`` / ``im.history``: messages newest first, between
  ``oldest`` and ``latest`` (``inclusive`` applies to both bounds; default false), ``count`` at a
  time (default 20, at most ``API_Upper_Count_Limit``, 100 by default) after skipping ``offset``.
- ``chat.update`` accepts only ``roomId``, ``msgId`` and ``text`` (attachments cannot be edited).
- ``users.info`` shows ``roles`` of another user only to callers holding
  ``view-full-other-user-info`` (admin by default); ``type`` (``user`` / ``bot``) is public.
- Realtime: DDP over a websocket at ``/websocket``: ``{"server_id": "0"}``, ``connect`` /
  ``connected``, ``ping`` / ``pong`` both ways, method ``login`` with ``{"resume": token}``,
  subscription ``stream-room-messages`` with ``__my_messages__`` (or a room id) answered by
  ``ready`` or ``nosub``; new messages and updates (edits, reactions) are pushed as
  ``{"msg": "changed", "collection": "stream-room-messages", "id": "id", "fields": {"eventName":
  "__my_messages__", "args": [message, {"roomParticipant": true, "roomType": "c", ...}]}}`` with
  dates in EJSON (``{"$date": ms}``).

The test control API (plain Python methods) adds users, rooms and roles, makes users speak and
react, drops every websocket, forces the next answers of an endpoint to fail, and reads what was
posted. What it serves is typed with the adapter's own payload types
(:mod:`bot.platforms.rocketchat.types`).

The package's modules, one concern each: ``model`` (users, rooms, uploads, message forms, REST
errors), ``state`` (what the server holds; storing, editing, reacting, pushing), ``realtime``
(DDP), ``rest`` (the REST layer and its endpoints) and ``server`` (:class:`FakeRocketChat`: life
cycle and the test control API).
"""

from tests.fakes.rocketchat.model import (
    ApiError,
    FakeRoom,
    FakeUpload,
    FakeUser,
    ddp_form,
    iso,
    meteor_error,
    number_emoji,
    parse_iso,
    random_id,
    rest_form,
)
from tests.fakes.rocketchat.server import FakeRocketChat

__all__ = [
    "ApiError",
    "FakeRocketChat",
    "FakeRoom",
    "FakeUpload",
    "FakeUser",
    "ddp_form",
    "iso",
    "meteor_error",
    "number_emoji",
    "parse_iso",
    "random_id",
    "rest_form",
]
