"""The fake Slack's posting limits answer like Slack: a 429 with whole seconds to wait."""

from __future__ import annotations

from tests.slack.fake_limits import PostLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_workspace_takes_so_many_posts_per_window_then_says_when_to_come_back() -> None:
    clock = Clock()
    limits = PostLimits(workspace_posts=3, window_seconds=60, clock=clock)

    assert [limits.refuse(f"C{n}") for n in range(3)] == [None, None, None]
    clock.now += 10.2
    assert limits.refuse("C9") == 50  # the first post leaves the window after 49.8 s
    clock.now += 49.8
    assert limits.refuse("C9") is None
    assert limits.refuse("C10") is None  # the second left at the same moment
    assert limits.refused == 1


def test_one_channel_takes_about_one_post_a_second() -> None:
    clock = Clock()
    limits = PostLimits(clock=clock)

    assert limits.refuse("C1") is None
    clock.now += 0.4
    assert limits.refuse("C1") == 1
    assert limits.refuse("C2") is None
    clock.now += 0.6
    assert limits.refuse("C1") is None


def test_what_the_limits_allow() -> None:
    limits = PostLimits(workspace_posts=600, window_seconds=60)

    assert limits.allowed_seconds(600, 600) == 0.0  # one window takes them all
    assert limits.allowed_seconds(1000, 1000) == 60.0
    assert limits.allowed_seconds(10, 1) == 9.0  # one channel: a second apart
