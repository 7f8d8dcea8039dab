"""The baseline: a bare Bolt ``AsyncApp`` on aiohttp that only acknowledges message events.

It runs the same server stack as Hoedan (Bolt with ``process_before_response=True``, the
aiohttp adapter, an ``aiohttp.web`` AppRunner without access log, a Web API client pointed at
the fake Slack) minus everything Hoedan does after the ack, so the benchmark can tell how much
of Hoedan's cost is its own and how much is Bolt's.

Run as ``python -m bench.bare_bolt --port N --api-url URL``; the signing secret and bot token
come from ``SLACK_SIGNING_SECRET`` and ``SLACK_BOT_TOKEN``, as for Hoedan.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024
"""Hoedan's limit, so both servers parse bodies under the same rules."""


def build_app(*, signing_secret: str, token: str, api_url: str) -> AsyncApp:
    """Bolt configured as Hoedan configures it, with one listener that only acknowledges.

    The token goes in the client only (as in Hoedan): giving it to ``AsyncApp`` as well makes
    Bolt warn that the client's token wins, and it authorizes with that token either way.
    """
    client = AsyncWebClient(token=token, base_url=api_url, timeout=10)
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        logger=logging.getLogger("bench.bare_bolt.bolt"),
    )

    @app.event("message")
    async def on_message(ack: AsyncAck) -> None:
        await ack()

    return app


def web_app(bolt: AsyncApp) -> web.Application:
    """``POST /slack/events`` through Bolt's aiohttp adapter and a trivial ``GET /healthz``."""

    async def events(request: web.Request) -> web.Response:
        bolt_response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, health)
    return app


async def serve(*, host: str, port: int, api_url: str) -> None:
    """Serve until SIGTERM or SIGINT."""
    bolt = build_app(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token=os.environ["SLACK_BOT_TOKEN"],
        api_url=api_url,
    )
    runner = web.AppRunner(web_app(bolt), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True, help="Slack Web API base URL (ends in /api/)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(host=args.host, port=args.port, api_url=args.api_url))


if __name__ == "__main__":
    main()
