"""Slack over Socket Mode: imported only when ``SLACK_APP_TOKEN`` asks for it.

The Socket Mode client and its websocket stack take a noticeable part of a start to import;
an installation on HTTP never needs them.
"""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest


class AckingSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode, acknowledging envelopes Bolt has no listener for (it would leave them)."""

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time.time()
        response: BoltResponse = await run_async_bolt_app(self.app, req)
        if response.status == 404:
            response = BoltResponse(status=200, body="")
        await send_async_response(client, req, response, start)
