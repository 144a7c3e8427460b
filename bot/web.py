"""The bot's HTTP server (``[web]``, off by default, on loopback unless configured), on aiohttp.

- ``/healthz``: the process answers (liveness). 503 only when the instance is active and its
  scheduler has stopped; a standby is healthy.
- ``/readyz``: the database answers a query, this instance holds the lease, every platform is
  connected and the scheduler runs: 200, else 503; the JSON body says which check failed.
- ``/metrics``: :mod:`bot.metrics` in the Prometheus text format.

It starts before the instance waits for the lease, so a standby can be watched too. The same
server will host the email one-click unsubscribe (``public_url`` is where people reach it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.config import Problem, WebSettings
from bot.i18n import N_
from bot.lease import Lease
from bot.metrics import Metrics, Watched, platform_connected
from bot.startup import StartError

log = logging.getLogger(__name__)


class WebServer:
    def __init__(
        self, settings: WebSettings, app: Watched, scheduler: Any, lease: Lease, metrics: Metrics
    ) -> None:
        self.settings = settings
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
