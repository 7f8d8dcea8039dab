"""The tests' fake Slack Web API in a process of its own, for the benchmarks.

Hoedan calls Slack while it works (``users.info`` on first contact, ``chat.postMessage`` for
thread replies). Serving those answers from the load generator's process would make the two
compete for one interpreter, and a slow answer would then show up as Hoedan being slow. Here
the fake gets its own interpreter: it prints its API URL on the first line of stdout, and on
SIGTERM prints one JSON line (how often each method was called, how many messages each channel
got, when the first and last were accepted, how many posts it refused with a 429) and exits.

``--workspace-posts N`` makes it enforce Slack's posting limits (``tests.slack.fake_limits``):
N accepted posts per ``--window-seconds`` (60) over the workspace, one a second per channel;
``--latency-ms`` makes every post take that long, like a round trip to Slack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections import Counter

from tests.slack.fake_limits import PostLimits
from tests.slack.fake_slack import FakeSlack


async def serve(limits: PostLimits | None, latency: float) -> None:
    """Run the fake until SIGTERM or SIGINT, then report what it received.

    ``latency`` (seconds) holds every ``chat.postMessage`` that long before it is handled, as
    the round trip to Slack's servers would.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with FakeSlack(limits=limits) as slack:
        if latency > 0:
            slack.delay("chat.postMessage", latency, times=sys.maxsize)
        print(slack.api_url, flush=True)
        await stop.wait()
        calls = Counter(call.method for call in slack.calls)
        messages = slack.messages()
    stamps = sorted(float(message["ts"]) for message in messages)
    report = {
        "calls": dict(sorted(calls.items())),
        "posts": dict(Counter(str(message["channel"]) for message in messages)),
        "first": stamps[0] if stamps else None,
        "last": stamps[-1] if stamps else None,
        "refused": limits.refused if limits is not None else 0,
    }
    print(json.dumps(report), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace-posts", type=int, help="accepted posts per window")
    parser.add_argument("--window-seconds", type=float, default=60.0)
    parser.add_argument("--per-channel-seconds", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="per chat.postMessage")
    args = parser.parse_args()
    limits = None
    if args.workspace_posts:
        limits = PostLimits(
            workspace_posts=args.workspace_posts,
            window_seconds=args.window_seconds,
            per_channel_seconds=args.per_channel_seconds,
        )
    asyncio.run(serve(limits, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
