"""Slack's rate limits on posting, as the fake Slack enforces them when asked.

Slack lets an app post about one message a second per channel, and caps how many messages a
workspace takes from one app per minute ("several hundred"); beyond either it answers HTTP 429
with a whole number of seconds in ``Retry-After``. The fan-out benchmark and the outbox tests
use this to check that Hoedan waits as asked and loses no time doing so.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class PostLimits:
    workspace_posts: int = 600
    """At most this many accepted posts in any ``window_seconds``, over all channels."""
    window_seconds: float = 60.0
    per_channel_seconds: float = 1.0
    """At least this long between two accepted posts in one channel."""
    clock: Callable[[], float] = time.monotonic
    refused: int = 0
    """How many posts were answered with a 429."""
    _accepted: deque[float] = field(default_factory=deque)
    _last: dict[str, float] = field(default_factory=dict)

    def refuse(self, channel: str | None) -> int | None:
        """Seconds to put in ``Retry-After`` when this post is over a limit, else None (and the
        post counts against the limits)."""
        now = self.clock()
        while self._accepted and now - self._accepted[0] >= self.window_seconds:
            self._accepted.popleft()
        if len(self._accepted) >= self.workspace_posts:
            self.refused += 1
            return _whole_seconds(self._accepted[0] + self.window_seconds - now)
        last = self._last.get(channel) if channel else None
        if last is not None and now - last < self.per_channel_seconds:
            self.refused += 1
            return _whole_seconds(last + self.per_channel_seconds - now)
        self._accepted.append(now)
        if channel:
            self._last[channel] = now
        return None

    def allowed_seconds(self, posts: int, channels: int) -> float:
        """The least time from the first post to the last that the limits allow for ``posts``
        spread evenly over ``channels``, for a client that takes no time itself."""
        if posts <= 0:
            return 0.0
        workspace = ((posts - 1) // self.workspace_posts) * self.window_seconds
        per_channel = (math.ceil(posts / max(1, channels)) - 1) * self.per_channel_seconds
        return max(workspace, per_channel)


def _whole_seconds(wait: float) -> int:
    """As Slack says it: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(wait))
