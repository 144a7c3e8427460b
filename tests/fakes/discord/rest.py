"""The REST layer of the fake Discord: routes, authentication, faults and rate limits per route,
the user, gateway and application endpoints, and the CDN."""

from __future__ import annotations

import functools
import re
import time
from typing import Any

from aiohttp import web

from bot.platforms.discord.types import (
    Application,
    GatewayBot,
)
from tests.fakes.discord.bodies import (
    read_body,
)
from tests.fakes.discord.interactions import Interactions
from tests.fakes.discord.model import (
    Call,
    DiscordHTTPError,
    Handler,
    RecordedRequest,
    bucket_hash,
    form_error,
    json_answer,
)


class Rest(Interactions):
    """Routing on top of every endpoint."""

    # --- REST --------------------------------------------------------------------------------

    @functools.cached_property
    def _routes(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        """The routes: method, path pattern, handler, whether the bot's token is needed."""
        s = r"(?P<{}>\d+)"
        token = r"(?P<token>[^/]+)"
        routes: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/@me/guilds", self._get_my_guilds, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/users/" + s.format("user"), self._get_user, True),
            ("GET", "/channels/" + s.format("channel"), self._get_channel, True),
            ("POST", "/channels/" + s.format("channel") + "/messages", self._post_message, True),
            (
                "GET",
                "/channels/" + s.format("channel") + "/messages/" + s.format("message"),
                self._get_message,
                True,
            ),
            (
                "PATCH",
                "/channels/" + s.format("channel") + "/messages/" + s.format("message"),
                self._patch_message,
                True,
            ),
            (
                "DELETE",
                "/channels/" + s.format("channel") + "/messages/" + s.format("message"),
                self._delete_message,
                True,
            ),
            ("GET", "/applications/" + s.format("app") + "/commands", self._get_commands, True),
            ("PUT", "/applications/" + s.format("app") + "/commands", self._put_commands, True),
            (
                "GET",
                "/applications/" + s.format("app") + "/guilds/" + s.format("guild") + "/commands",
                self._get_commands,
                True,
            ),
            (
                "PUT",
                "/applications/" + s.format("app") + "/guilds/" + s.format("guild") + "/commands",
                self._put_commands,
                True,
            ),
            (
                "POST",
                "/interactions/" + s.format("interaction") + "/" + token + "/callback",
                self._callback,
                False,
            ),
            ("POST", "/webhooks/" + s.format("app") + "/" + token, self._followup, False),
            (
                "GET",
                "/webhooks/"
                + s.format("app")
                + "/"
                + token
                + r"/messages/(?P<message>@original|\d+)",
                self._get_webhook_message,
                False,
            ),
            (
                "PATCH",
                "/webhooks/"
                + s.format("app")
                + "/"
                + token
                + r"/messages/(?P<message>@original|\d+)",
                self._patch_webhook_message,
                False,
            ),
            (
                "DELETE",
                "/webhooks/"
                + s.format("app")
                + "/"
                + token
                + r"/messages/(?P<message>@original|\d+)",
                self._delete_webhook_message,
                False,
            ),
        ]
        return [(m, re.compile(p), h, auth) for m, p, h, auth in routes]

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await read_body(request)
        record = RecordedRequest(request.method, path, dict(request.query), body, files)
        self.requests.append(record)
        try:
            response = await self._route(request, path, record, body)
        except DiscordHTTPError as error:
            response = error.response()
        record.status = response.status
        self._touch()
        return response

    async def _route(
        self, request: web.Request, path: str, record: RecordedRequest, body: Any
    ) -> web.StreamResponse:
        allowed: list[str] = []
        for method, pattern, handler, needs_auth in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise DiscordHTTPError(401, 0, "401: Unauthorized")
            self._apply_faults(request.method, path)
            bucket = f"{method} {pattern.pattern}"
            headers = self._count(bucket, match)
            response = await handler(Call(request, match, record, body))
            response.headers.update(headers)
            return response
        if allowed:
            raise DiscordHTTPError(405, 0, "405: Method Not Allowed")
        raise DiscordHTTPError(404, 0, "404: Not Found")

    def _apply_faults(self, method: str, path: str) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method == method and fault.pattern.fullmatch(path):
                fault.remaining -= 1
                raise fault.answer()

    def _count(self, bucket: str, match: re.Match[str]) -> dict[str, str]:
        """Per-route limit over 1-second windows, keyed by the top-level resource."""
        groups = match.groupdict()
        major = groups.get("channel") or groups.get("guild") or groups.get("token") or ""
        key = f"{bucket}:{major}"
        now = time.monotonic()
        start, used = self._buckets.get(key, (now, 0))
        if now - start >= 1.0:
            start, used = now, 0
        reset_after = max(0.0, 1.0 - (now - start))
        if used >= self.route_limit:
            raise self._rate_limited(reset_after, global_=False, bucket=bucket)
        used += 1
        self._buckets[key] = (start, used)
        return {
            "X-RateLimit-Limit": str(self.route_limit),
            "X-RateLimit-Remaining": str(self.route_limit - used),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(bucket),
        }

    # --- REST: users, gateway, application -----------------------------------------------------

    async def _get_gateway(self, call: Call) -> web.StreamResponse:
        return json_answer({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: Call) -> web.StreamResponse:
        answer: GatewayBot = {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - self.identifies,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }
        return json_answer(answer)

    async def _get_me(self, call: Call) -> web.StreamResponse:
        return json_answer(
            self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        )

    async def _get_my_guilds(self, call: Call) -> web.StreamResponse:
        return json_answer(
            [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "owner": False,
                    "permissions": "0",
                    "features": [],
                }
                for g in self.guilds.values()
            ]
        )

    async def _get_application(self, call: Call) -> web.StreamResponse:
        application: Application = {
            "id": str(self.application_id),
            "name": "Tisserand",
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.owner.payload(),
            "verify_key": "0" * 64,
            "flags": self.flags,
            "team": None,
            "summary": "",
            "bot": self.bot.payload(),
        }
        return json_answer(application)

    async def _get_user(self, call: Call) -> web.StreamResponse:
        user = self.users.get(call.snowflake("user"))
        if user is None:
            raise DiscordHTTPError(404, 10013, "Unknown User")
        return json_answer(user.payload())

    async def _create_dm(self, call: Call) -> web.StreamResponse:
        body = call.body if isinstance(call.body, dict) else {}
        try:
            user = self.users[int(body["recipient_id"])]
        except (KeyError, ValueError, TypeError):
            raise form_error("recipient_id", "BASE_TYPE_REQUIRED", "Unknown user") from None
        return json_answer(self._channel_payload(self.open_dm(user)))

    async def _get_channel(self, call: Call) -> web.StreamResponse:
        channel = self._channel(call.snowflake("channel"))
        return json_answer(self._channel_payload(channel))

    # --- CDN ------------------------------------------------------------------------------------

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        for message in self.messages.values():
            for attachment in message.attachments:
                if attachment["id"] == request.match_info["attachment"]:
                    data = message.files.get(attachment["filename"], b"")
                    return web.Response(body=data, content_type=attachment["content_type"])
        return web.Response(status=404)
