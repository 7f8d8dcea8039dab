"""The tests' fake Slack Web API in a process of its own, for the benchmark.

Hoedan calls Slack while it works (``users.info`` on first contact, ``chat.postMessage`` for
thread replies). Serving those answers from the load generator's process would make the two
compete for one interpreter, and a slow answer would then show up as Hoedan being slow. Here
the fake gets its own interpreter: it prints its API URL on the first line of stdout, and on
SIGTERM prints how often each method was called (as one JSON line) and exits.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter

from tests.slack.fake_slack import FakeSlack


async def serve() -> None:
    """Run the fake until SIGTERM or SIGINT, then report the calls it received."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with FakeSlack() as slack:
        print(slack.api_url, flush=True)
        await stop.wait()
        calls = Counter(call.method for call in slack.calls)
    print(json.dumps(dict(sorted(calls.items()))), flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
