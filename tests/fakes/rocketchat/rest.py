"""The REST API of the fake server under ``/api/v1/``: authentication, the rate limiter, forced
failures, and the endpoints the adapter calls."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import BodyPartReader, web

from bot.platforms.rocketchat.types import (
    DirectRoomAnswer,
    ErrorBody,
    FileInfo,
    HistoryAnswer,
    LoginAnswer,
    MessageAnswer,
    MessageAttachment,
    RoomAnswer,
    RoomsAnswer,
    UploadAnswer,
    UserAnswer,
)
from tests.fakes.rocketchat.model import (
    ApiError,
    FakeRoom,
    FakeUpload,
    FakeUser,
    Forced,
    TooManyRequests,
    Window,
    client_ip,
    meteor_error,
    parse_iso,
    random_id,
    rest_form,
)
from tests.fakes.rocketchat.state import ServerState

_NOT_LOGGED_IN: ErrorBody = {"status": "error", "message": "You must be logged in to do this."}
_DUPLICATE_ID_ERROR = "Cannot read properties of undefined (reading 'starred')"


class Rest(ServerState):
    """The REST layer: plumbing, then one method per endpoint."""

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "7.5.0", "success": True})

    def _rate_limit(self, key: str, ip: str, user: FakeUser | None) -> dict[str, str] | None:
        """Meteor's fixed-window limiter. Returns headers, or raises a 429."""
        if not self.rate_limit_enabled:
            return None
        if user is not None and self.bypass_rate_limit_roles.intersection(user.roles):
            return None
        now = time.monotonic() * 1000
        window = self._windows.get((key, ip))
        if window is None or now - window.start >= self.rate_limit_window_ms:
            window = Window(start=now)
            self._windows[(key, ip)] = window
        window.count += 1
        time_to_reset = int(self.rate_limit_window_ms - (now - window.start))
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit_calls),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit_calls - window.count)),
            "X-RateLimit-Reset": str(self._now() + time_to_reset),
        }
        if window.count > self.rate_limit_calls:
            seconds = -(-time_to_reset // 1000)
            raise TooManyRequests(headers, seconds)
        return headers

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["endpoint"]
        name, _, rest = path.partition("/")
        path_args = [p for p in rest.split("/") if p]
        handler = self._routes().get((request.method, name))
        if handler is None:
            return web.json_response(
                {"status": "error", "message": "API endpoint does not exist"}, status=404
            )
        user: FakeUser | None = None
        if name != "login":
            user = self._user_by_token(request.headers.get("X-Auth-Token"))
            if user is None or user.id != request.headers.get("X-User-Id"):
                self.statuses[(name, 401)] += 1
                return web.json_response(_NOT_LOGGED_IN, status=401)
        headers: dict[str, str] = {}
        try:
            limited = self._rate_limit(
                f"/api/v1/{name}{request.method.lower()}", client_ip(request), user
            )
            if limited:
                headers.update(limited)
        except TooManyRequests as exc:
            self.statuses[(name, 429)] += 1
            return web.json_response(exc.body(), status=429, headers=exc.headers)
        forced = self._forced.get(name)
        failure = forced.pop(0) if forced else None
        if failure is not None and not failure.processed:
            return self._forced_answer(name, failure)
        try:
            params = await self._params(request)
            body = handler(user, params, path_args)
            status = 200
        except ApiError as exc:
            body, status = exc.body, exc.status
        if failure is not None:
            return self._forced_answer(name, failure)
        self.requests[name] += 1
        self.statuses[(name, status)] += 1
        self._notify()
        return web.json_response(body, status=status, headers=headers)

    def _forced_answer(self, name: str, failure: Forced) -> web.Response:
        self.statuses[(name, failure.status)] += 1
        if failure.status == 429:
            seconds = max(1, -(-self.forced_reset_ms // 1000))
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit_calls),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(self._now() + self.forced_reset_ms),
            }
            return web.json_response(
                TooManyRequests(headers, seconds).body(), status=429, headers=headers
            )
        return web.json_response(
            {"success": False, "error": "Internal error occured"}, status=failure.status
        )

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                try:
                    data = await request.json()
                except ValueError:
                    raise ApiError("Invalid JSON body", "invalid-params") from None
                if isinstance(data, dict):
                    params.update(data)
            elif request.content_type.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, BodyPartReader):
                        continue
                    if part.name == "file" and part.filename is not None:
                        params["file"] = {
                            "name": part.filename,
                            "type": part.headers.get("Content-Type", "application/octet-stream"),
                            "data": bytes(await part.read()),
                        }
                    elif part.name:
                        params[part.name] = (await part.read()).decode()
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    def _routes(
        self,
    ) -> dict[tuple[str, str], Callable[[Any, dict[str, Any], list[str]], Mapping[str, Any]]]:
        return {
            ("POST", "login"): self._login,
            ("POST", "logout"): self._logout,
            ("GET", "me"): self._me,
            ("GET", "users.info"): self._users_info,
            ("GET", "rooms.get"): self._rooms_get,
            ("GET", "rooms.info"): self._rooms_info,
            ("POST", "channels.join"): self._channels_join,
            ("GET", "channels.history"): lambda u, p, a: self._history(u, p, "c"),
            ("GET", "groups.history"): lambda u, p, a: self._history(u, p, "p"),
            ("GET", "im.history"): lambda u, p, a: self._history(u, p, "d"),
            ("GET", "dm.history"): lambda u, p, a: self._history(u, p, "d"),
            ("POST", "im.create"): self._im_create,
            ("POST", "dm.create"): self._im_create,
            ("POST", "chat.postMessage"): self._post_message,
            ("POST", "chat.sendMessage"): self._send_message,
            ("POST", "chat.update"): self._chat_update,
            ("POST", "chat.react"): self._chat_react,
            ("GET", "chat.getMessage"): self._get_message,
            ("POST", "rooms.upload"): self._rooms_upload,
            **(
                {
                    ("POST", "rooms.media"): self._rooms_media,
                    ("POST", "rooms.mediaConfirm"): self._rooms_media_confirm,
                }
                if self.media_endpoints
                else {}
            ),
        }

    # --- REST endpoints ---------------------------------------------------------------------------

    def _login(self, _: Any, params: dict[str, Any], __: list[str]) -> LoginAnswer:
        login = params.get("user") or params.get("username")
        password = params.get("password")
        user = None
        if isinstance(login, str):
            user = next((u for u in self.users.values() if u.username == login), None)
        if user is None or user.password is None or user.password != password:
            raise ApiError(
                "Unauthorized",
                status=401,
                body={"status": "error", "error": "Unauthorized", "message": "Unauthorized"},
            )
        token = secrets.token_urlsafe(32)
        user.tokens.add(token)
        return {
            "status": "success",
            "data": {"userId": user.id, "authToken": token, "me": user.public(full=True)},
        }

    def _logout(self, user: FakeUser, params: dict[str, Any], __: list[str]) -> dict[str, Any]:
        return {"status": "success", "data": {"message": "You've been logged out!"}}

    def _me(self, user: FakeUser, params: dict[str, Any], __: list[str]) -> dict[str, Any]:
        return {**user.public(full=True), "success": True}

    def _users_info(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> UserAnswer:
        wanted: FakeUser | None = None
        if params.get("userId"):
            wanted = self.users.get(params["userId"])
        elif params.get("username"):
            wanted = next(
                (u for u in self.users.values() if u.username == params["username"]), None
            )
        else:
            raise meteor_error(
                "error-user-param-not-provided",
                'The required "userId" or "username" param was not provided',
            )
        if wanted is None:
            raise meteor_error("error-invalid-user", "User not found.")
        full = wanted.id == user.id or bool(self.full_user_info_roles.intersection(user.roles))
        return {"user": wanted.public(full=full), "success": True}

    def _member_rooms(self, user: FakeUser) -> list[FakeRoom]:
        return [r for r in self.rooms.values() if user.id in r.members]

    def _rooms_get(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> RoomsAnswer:
        rooms = self._member_rooms(user)
        if params.get("updatedSince"):
            since = parse_iso(params["updatedSince"])
            rooms = [r for r in rooms if r.updated_at > since]
        return {"update": [r.as_json() for r in rooms], "remove": [], "success": True}

    def _find_room(self, params: dict[str, Any]) -> FakeRoom:
        room: FakeRoom | None = None
        if params.get("roomId"):
            room = self.rooms.get(params["roomId"])
        elif params.get("roomName"):
            room = next((r for r in self.rooms.values() if r.name == params["roomName"]), None)
        else:
            raise meteor_error(
                "error-roomid-param-not-provided",
                'The parameter "roomId" or "roomName" is required',
            )
        if room is None:
            raise meteor_error(
                "error-room-not-found",
                'The required "roomId" or "roomName" param provided does not match any channel',
            )
        return room

    def _rooms_info(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> RoomAnswer:
        room = self._find_room(params)
        if room.type != "c" and user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        return {"room": room.as_json(), "success": True}

    def _channels_join(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> RoomAnswer:
        room = self._find_room(params)
        if room.type != "c":
            raise meteor_error(
                "error-room-not-found",
                'The required "roomId" or "roomName" param provided does not match any channel',
            )
        if user.id not in room.members:
            room.members.append(user.id)
        return {"channel": room.as_json(), "success": True}

    def _history(self, user: FakeUser, params: dict[str, Any], kind: str) -> HistoryAnswer:
        room = self._find_room(params)
        if room.type != kind:
            raise meteor_error(
                "error-room-not-found",
                'The required "roomId" or "roomName" param provided does not match any channel',
            )
        if room.type != "c" and user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        inclusive = str(params.get("inclusive", "false")).lower() == "true"
        oldest = parse_iso(params["oldest"]) if params.get("oldest") else None
        latest = parse_iso(params["latest"]) if params.get("latest") else None
        count = min(int(params.get("count", 20)), self.upper_count_limit)
        offset = int(params.get("offset", 0))
        found = []
        for message in self.messages.values():
            if message["rid"] != room.id:
                continue
            ts = message["ts"]
            if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
                continue
            if latest is not None and (ts > latest or (ts == latest and not inclusive)):
                continue
            found.append(message)
        found.sort(key=lambda m: m["ts"], reverse=True)  # newest first, as the server sorts
        page = found[offset : offset + count] if count > 0 else found[offset:]
        return {"messages": [rest_form(m) for m in page], "success": True}

    def _im_create(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> DirectRoomAnswer:
        username = params.get("username")
        if not isinstance(username, str) or not username:
            raise meteor_error(
                "error-invalid-params", 'Body param "username" or "usernames" is required'
            )
        try:
            other = self.user(username)
        except KeyError:
            raise meteor_error("error-invalid-user", "Invalid user") from None
        room = self.direct_room(user.username, other.username)
        return {
            "room": {"_id": room.id, "rid": room.id, "t": "d", "usernames": room.usernames},
            "success": True,
        }

    def _check_send(self, user: FakeUser, room: FakeRoom, message: dict[str, Any]) -> None:
        if user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        text = message.get("msg") or ""
        if not isinstance(text, str):
            raise meteor_error("invalid-params", "must be string")
        if len(text) > self.max_message_size:
            raise meteor_error(
                "error-message-size-exceeded", "Message size exceeds Message_MaxAllowedSize"
            )
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):
                raise ApiError("Match error: Expected object")
            for action in attachment.get("actions") or []:
                if not isinstance(action, dict):
                    raise ApiError("Match error: Expected object")
                for key, kind in (
                    ("type", str),
                    ("text", str),
                    ("msg", str),
                    ("msg_in_chat_window", bool),
                ):
                    if key in action and not isinstance(action[key], kind):
                        raise ApiError(f"Match error: Expected {kind.__name__} in field {key}")
        if message.get("customFields"):
            raise meteor_error("error-not-allowed", "Custom fields not enabled")

    def _post_message(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> dict[str, Any]:
        room: FakeRoom | None = None
        if params.get("roomId"):
            room = self.rooms.get(params["roomId"])
        elif isinstance(params.get("channel"), str):
            channel = params["channel"]
            if channel.startswith("@"):
                room = self.direct_room(user.username, channel[1:])
            else:
                room = next((r for r in self.rooms.values() if r.name == channel.lstrip("#")), None)
        if room is None:
            raise meteor_error("invalid-channel", "Invalid channel")
        message = {"msg": params.get("text") or "", "attachments": params.get("attachments")}
        self._check_send(user, room, message)
        stored = self._insert(user, room, message)
        return {
            "ts": stored["ts"],
            "channel": room.name or room.id,
            "message": rest_form(stored),
            "success": True,
        }

    def _send_message(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> MessageAnswer:
        message = params.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("rid"), str):
            raise meteor_error("invalid-params", "must have required property 'message'")
        room = self.rooms.get(message["rid"])
        if room is None:
            raise meteor_error("error-invalid-room", "Invalid room")
        self._check_send(user, room, message)
        if message.get("_id") and message["_id"] in self.messages:
            # The real server stores nothing and its REST layer then fails on the missing result.
            raise ApiError(_DUPLICATE_ID_ERROR)
        stored = self._insert(user, room, message)
        return {"message": rest_form(stored), "success": True}

    def _chat_update(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> MessageAnswer:
        extra = set(params) - {"roomId", "msgId", "text", "previewUrls"}
        if extra:
            raise meteor_error("invalid-params", "must NOT have additional properties")
        message = self.messages.get(str(params.get("msgId")))
        if message is None:
            raise ApiError(f'No message found with the id of "{params.get("msgId")}".')
        if params.get("roomId") != message["rid"]:
            raise ApiError("The room id provided does not match where the message is from.")
        if message["u"]["_id"] != user.id and "admin" not in user.roles:
            raise meteor_error("error-action-not-allowed", "Message editing not allowed")
        text = params.get("text")
        if not isinstance(text, str):
            raise meteor_error("invalid-params", "must have required property 'text'")
        updated = self._update_text(user, message, text)
        return {"message": rest_form(updated), "success": True}

    def _chat_react(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> dict[str, Any]:
        message = self.messages.get(str(params.get("messageId")))
        if message is None:
            raise meteor_error(
                "error-message-not-found",
                'The provided "messageId" does not match any existing message.',
            )
        emoji = params.get("emoji") or params.get("reaction")
        if not isinstance(emoji, str) or not emoji:
            raise meteor_error(
                "error-emoji-param-not-provided", 'The required "emoji" param is missing.'
            )
        should = params.get("shouldReact")
        self._set_reaction(user, message, emoji, None if should is None else bool(should))
        return {"success": True}

    def _get_message(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> MessageAnswer:
        message = self.messages.get(str(params.get("msgId")))
        if message is None:
            raise meteor_error("error-invalid-message", "Invalid message")
        room = self.rooms[message["rid"]]
        if room.type != "c" and user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        return {"message": rest_form(message), "success": True}

    def _upload_target(self, user: FakeUser, args: list[str]) -> FakeRoom:
        room = self.rooms.get(args[0]) if args else None
        if room is None or user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        return room

    def _file_message(self, upload: FakeUpload, msg: str, description: str) -> dict[str, Any]:
        info: FileInfo = {
            "_id": upload.id,
            "name": upload.name,
            "type": upload.media_type,
            "size": len(upload.data),
        }
        card: MessageAttachment = {
            "title": upload.name,
            "title_link": f"/file-upload/{upload.id}/{upload.name}",
            "title_link_download": True,
            "type": "file",
            "description": description,
            "format": upload.name.rsplit(".", 1)[-1].upper(),
            "size": len(upload.data),
        }
        return {"msg": msg, "file": info, "files": [info], "attachments": [card]}

    def _new_upload(self, user: FakeUser, room: FakeRoom, params: dict[str, Any]) -> FakeUpload:
        file = params.get("file")
        if not isinstance(file, dict):
            raise meteor_error("invalid-field", "invalid-field")
        upload = FakeUpload(
            random_id(24), room.id, user.id, file["name"], file["type"], file["data"]
        )
        self.uploads[upload.id] = upload
        return upload

    def _rooms_media(self, user: FakeUser, params: dict[str, Any], args: list[str]) -> UploadAnswer:
        room = self._upload_target(user, args)
        upload = self._new_upload(user, room, params)
        return {
            "file": {"_id": upload.id, "url": f"/file-upload/{upload.id}/{upload.name}"},
            "success": True,
        }

    def _rooms_media_confirm(
        self, user: FakeUser, params: dict[str, Any], args: list[str]
    ) -> MessageAnswer:
        room = self._upload_target(user, args)
        upload = self.uploads.get(args[1]) if len(args) > 1 else None
        if upload is None or upload.room_id != room.id or upload.confirmed:
            raise meteor_error("error-file-not-found", "File not found")
        upload.confirmed = True
        message = self._file_message(
            upload, str(params.get("msg") or ""), str(params.get("description") or "")
        )
        stored = self._insert(user, room, message)
        return {"message": rest_form(stored), "success": True}

    def _rooms_upload(
        self, user: FakeUser, params: dict[str, Any], args: list[str]
    ) -> MessageAnswer:
        room = self._upload_target(user, args)
        upload = self._new_upload(user, room, params)
        upload.confirmed = True
        message = self._file_message(
            upload, str(params.get("msg") or ""), str(params.get("description") or "")
        )
        stored = self._insert(user, room, message)
        return {"message": rest_form(stored), "success": True}
