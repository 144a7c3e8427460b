"""The bot's HTTP server (``[web]``, off by default, on loopback unless configured), on aiohttp.

- ``/healthz``: the process answers (liveness). 503 only when the instance is active and its
  scheduler has stopped; a standby is healthy.
- ``/readyz``: the database answers a query, this instance holds the lease, every platform is
  connected and the scheduler runs: 200, else 503; the JSON body says which check failed.
- ``/metrics``: :mod:`bot.metrics` in the Prometheus text format.
- ``/unsubscribe/{token}``: the email one-click unsubscribe (RFC 8058; ``public_url`` is where
  people reach it): ``POST`` with ``List-Unsubscribe=One-Click`` removes the subscription; ``GET``
  only shows a page with a button that posts it (mail scanners fetch links). The removal is the
  mailing family's, found in ``services`` under :data:`bot.family.UNSUBSCRIBE_SERVICE`.

It starts before the instance waits for the lease, so a standby can be watched too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.config import Problem, WebSettings
from bot.family import UNSUBSCRIBE_SERVICE, Unsubscriber
from bot.i18n import N_, Translator
from bot.lease import Lease
from bot.metrics import Metrics, Watched, platform_connected
from bot.startup import StartError

log = logging.getLogger(__name__)

TOKEN = r"[A-Za-z0-9_-]{8,64}"
"""What an unsubscribe token looks like (``secrets.token_urlsafe``); anything else is unknown."""

UNSUBSCRIBE_TITLE = N_("Unsubscribe")
UNSUBSCRIBE_ASK = N_("Stop the emails of {network} to {address}?")
UNSUBSCRIBE_BUTTON = N_("Unsubscribe")
UNSUBSCRIBE_DONE = N_(
    "{address} is removed from the mailing list of {network}: nothing more will be sent to it."
)
UNSUBSCRIBE_UNKNOWN = N_(
    "This unsubscribe link is unknown or was already used: nothing was changed. If emails still "
    "arrive, reply to one of them with the subject “unsubscribe”, or write to the coordination."
)
UNSUBSCRIBE_NOT_ONE_CLICK = N_(
    "This request is not a one-click unsubscribe: nothing was changed. Open the link and press "
    "the button."
)
UNSUBSCRIBE_LATER = N_(
    "The service is starting or standing by: nothing was changed. Try again in a few minutes."
)


class WebServer:
    def __init__(
        self,
        settings: WebSettings,
        app: Watched,
        scheduler: Any,
        lease: Lease,
        metrics: Metrics,
        *,
        translator: Translator | None = None,
        network: str = "Tisserand",
    ) -> None:
        self.settings = settings
        self._t = translator
        self._network = network
        self._app = app
        self._scheduler = scheduler
        self._lease = lease
        self._metrics = metrics
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """The port listened on (the configured one, or the one chosen for port 0)."""

    async def start(self) -> None:
        application = web.Application()
        application.router.add_get("/healthz", self._healthz)
        application.router.add_get("/readyz", self._readyz)
        application.router.add_get("/metrics", self._metrics_page)
        application.router.add_get(f"/unsubscribe/{{token:{TOKEN}}}", self._unsubscribe_page)
        application.router.add_post(f"/unsubscribe/{{token:{TOKEN}}}", self._unsubscribe)
        runner = web.AppRunner(application, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartError(
                [
                    (
                        "web.port",
                        Problem(
                            N_(
                                "cannot listen on {host}:{port} ({reason}): choose another "
                                "[web] port, or stop what already listens there"
                            ),
                            host=self.settings.host,
                            port=str(self.settings.port),
                            reason=exc.strerror or str(exc),
                        ),
                    )
                ]
            ) from None
        self._runner = runner
        self.port = runner.addresses[0][1] if runner.addresses else self.settings.port
        log.info("web server on http://%s:%s", self.settings.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _active(self) -> bool:
        return self._lease.held and self._app.started

    async def _healthz(self, _request: web.Request) -> web.Response:
        active = self._active()
        scheduler = bool(self._scheduler.running)
        ok = scheduler or not active
        body = {"status": "ok" if ok else "failing", "active": active, "scheduler": scheduler}
        return web.json_response(body, status=200 if ok else 503)

    def _database_answers(self) -> bool:
        try:
            with self._app.sessions() as db:
                db.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readyz: the database does not answer: %s", exc)
            return False
        return True

    async def _readyz(self, _request: web.Request) -> web.Response:
        platforms = {
            name: self._app.started and platform_connected(platform)
            for name, platform in self._app.platforms.items()
        }
        checks: dict[str, Any] = {
            "database": await asyncio.to_thread(self._database_answers),
            "lease": self._lease.held,
            "scheduler": bool(self._scheduler.running),
            "platforms": platforms,
        }
        ok = all(v for k, v in checks.items() if k != "platforms") and all(platforms.values())
        return web.json_response({"ready": ok, **checks}, status=200 if ok else 503)

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        body = await asyncio.to_thread(self._metrics.exposition)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    # --- one-click unsubscribe (RFC 8058) ----------------------------------------------------

    def _unsubscriber(self) -> Unsubscriber | None:
        found: Unsubscriber | None = self._app.services.get(UNSUBSCRIBE_SERVICE)
        return found

    def _page(self, status: int, *paragraphs: str, form: str | None = None) -> web.Response:
        from markupsafe import escape

        t = self._t
        title = t.gettext(UNSUBSCRIBE_TITLE) if t else "Unsubscribe"
        lang = t.locale if t else "en"
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        if form is not None:
            body += (
                '<form method="post"><input type="hidden" name="List-Unsubscribe" '
                f'value="One-Click"><button type="submit">{escape(form)}</button></form>'
            )
        html = (
            f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(self._network)} · {escape(title)}</title></head>"
            f'<body style="font-family:sans-serif;max-width:36em;margin:2em auto">'
            f"<h1>{escape(title)}</h1>{body}</body></html>"
        )
        response = web.Response(text=html, status=status, content_type="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
        return response

    def _say(self, message: str, **params: str) -> str:
        if self._t is None:
            return message.format(**params)
        return self._t.gettext(message, **params)

    def _unavailable(self) -> web.Response | None:
        """The answer when no removal can be made: 503 while starting or standing by, 404 when
        email is off."""
        if not self._app.started:
            return self._page(503, self._say(UNSUBSCRIBE_LATER))
        if self._unsubscriber() is None:
            return self._page(404, self._say(UNSUBSCRIBE_UNKNOWN))
        return None

    async def _unsubscribe_page(self, request: web.Request) -> web.Response:
        """``GET``: a confirm button; never removes anything (scanners prefetch links)."""
        refused = self._unavailable()
        if refused is not None:
            return refused
        unsubscriber = self._unsubscriber()
        assert unsubscriber is not None
        address = await asyncio.to_thread(unsubscriber.address_of, request.match_info["token"])
        if address is None:
            return self._page(404, self._say(UNSUBSCRIBE_UNKNOWN))
        ask = self._say(UNSUBSCRIBE_ASK, network=self._network, address=address)
        return self._page(200, ask, form=self._say(UNSUBSCRIBE_BUTTON))

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        """``POST`` with ``List-Unsubscribe=One-Click`` (the mail client's, or the page's form)."""
        refused = self._unavailable()
        if refused is not None:
            return refused
        form = await request.post()
        if form.get("List-Unsubscribe") != "One-Click":
            return self._page(400, self._say(UNSUBSCRIBE_NOT_ONE_CLICK))
        unsubscriber = self._unsubscriber()
        assert unsubscriber is not None
        address = await unsubscriber.unsubscribe(request.match_info["token"])
        if address is None:
            return self._page(404, self._say(UNSUBSCRIBE_UNKNOWN))
        log.info("one-click unsubscribe of %s", address)
        return self._page(200, self._say(UNSUBSCRIBE_DONE, network=self._network, address=address))
