"""The weekly learning prompt to many channels at once, under Slack's rate limits.

Run ``python -m bench.fanout`` from the repository root (defaults: 1,000 channels, a workspace
limit of 600 posts a minute, "several hundred" in Slack's words; ``--quick``: 100 channels, 60
posts per 10 seconds). It

1. seeds a fresh, migrated SQLite file with one network and ``--channels`` Slack channels, each
   with the weekly learning prompt planned two minutes ago (so the slot is due at start-up,
   within the grace period, as after a short outage);
2. starts a fake Slack (``bench._fake_slack``) that enforces about one post a second per channel
   and ``--workspace-posts`` accepted posts in any ``--window-seconds`` over the workspace,
   answering 429 with ``Retry-After`` (whole seconds) beyond either, then ``hoedan run`` on that
   file, and waits until every prompt is sent (or nothing moved for ``--stall`` seconds);
   ``--latency-ms`` makes the fake take that long over every post, like the round trip to
   Slack's servers (the outbox sends to several channels at once to hide it);
3. as the baseline in the same run, sends the same number of posts to a fresh fake with the
   same limits from a bare ``slack_sdk`` client that waits out each 429 with the SDK's own
   rate-limit retry handler, one post after the other.

The figure compared is the time from the first accepted post to the last, against what the
limits allow (``PostLimits.allowed_seconds``: the windows the posts need, for a client that
takes no time itself; so the ratio also holds the time the client spends posting). The goals,
zero lost, zero doubled and within 10% of what the limits allow, are printed as met or not met
for information; the exit status is 0 unless something crashed. Results go to
``bench/results/fanout.json``; the database and logs of the last run stay in
``bench/results/work/fanout/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bench._report import console
from bench._targets import (
    BOT_TOKEN,
    FakeReport,
    Processes,
    start_fake_slack,
    start_hoedan,
    stop_fake_slack,
    wait_healthy,
)
from flows.learning_room import KIND
from storage.database import resolve_database_url
from storage.enums import Platform, SpaceKind
from storage.migrate import upgrade
from storage.models import Schedule
from storage.store import Store
from tests.slack.fake_limits import PostLimits

RESULTS = Path(__file__).resolve().parent / "results"
WORK = RESULTS / "work" / "fanout"
TIMEZONE = "Europe/Amsterdam"
GOAL_RATIO = 1.10
NETWORK = ("landelijk", "Lerend netwerk")
"""The network ``hoedan run`` uses by default (its slug and name), so the seeded channels are
its own."""


@dataclass(frozen=True)
class Params:
    channels: int
    workspace_posts: int
    window_seconds: float
    stall: float
    latency_ms: float

    def fake_args(self) -> tuple[str, ...]:
        return (
            "--workspace-posts",
            str(self.workspace_posts),
            "--window-seconds",
            str(self.window_seconds),
            "--latency-ms",
            str(self.latency_ms),
        )


@dataclass(frozen=True)
class Outcome:
    target: str
    expected: int
    delivered: int
    lost: int
    doubled: int
    refused: int
    span_s: float | None
    """From the first accepted post to the last."""
    allowed_s: float

    @property
    def ratio(self) -> float | None:
        return None if self.span_s is None else self.span_s / self.allowed_s


def channel_ids(count: int) -> list[str]:
    return [f"C{number:07d}" for number in range(1, count + 1)]


async def seed(database: Path, channels: list[str]) -> None:
    """A network whose channels all have the learning prompt planned two minutes ago."""
    urls = resolve_database_url(f"sqlite:///{database}")
    upgrade(urls)
    planned = datetime.now(ZoneInfo(TIMEZONE)) - timedelta(minutes=2)
    store = Store(urls)
    try:
        async with store.transaction() as tx:
            network = await tx.networks.get_or_create(slug=NETWORK[0], name=NETWORK[1])
            assert network.id is not None
            for channel in channels:
                space = await tx.spaces.get_or_create(
                    network_id=network.id,
                    platform=Platform.SLACK,
                    external_id=channel,
                    name=f"regio-{channel[-4:]}",
                    kind=SpaceKind.CHANNEL,
                )
                assert space.id is not None
                tx.session.add(
                    Schedule(
                        space_id=space.id,
                        kind=KIND,
                        weekday=planned.weekday(),
                        time_of_day=planned.strftime("%H:%M"),
                        timezone=TIMEZONE,
                        created_at=datetime.now(UTC) - timedelta(days=2),
                    )
                )
    finally:
        await store.close()


def sent_prompts(database: Path) -> int:
    """Learning-prompt posts Hoedan has marked sent (read beside the running process)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        row = connection.execute(
            "SELECT count(*) FROM outbox_message WHERE status = 'sent' AND subject LIKE ?",
            (f"{KIND}:%",),
        ).fetchone()
    return int(row[0])


def outcome(target: str, report: FakeReport, channels: list[str], limits: PostLimits) -> Outcome:
    posts = [report.posts.get(channel, 0) for channel in channels]
    span = None if report.first is None or report.last is None else report.last - report.first
    return Outcome(
        target=target,
        expected=len(channels),
        delivered=sum(posts),
        lost=sum(1 for count in posts if count == 0),
        doubled=sum(count - 1 for count in posts if count > 1),
        refused=report.refused,
        span_s=span,
        allowed_s=limits.allowed_seconds(len(channels), len(channels)),
    )


async def run_hoedan(params: Params, channels: list[str], limits: PostLimits) -> Outcome:
    workdir = WORK / "hoedan"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    database = workdir / "hoedan.db"
    console.print(f"[bold]Hoedan[/]: seeding {len(channels):,} channels with a due prompt")
    await seed(database, channels)
    with Processes() as processes:
        fake = await start_fake_slack(processes, workdir, *params.fake_args())
        target = start_hoedan(processes, workdir, fake.api_url)
        await wait_healthy(target)
        await _follow(database, len(channels), params.stall)
        processes.stop(target.process)
        report = await stop_fake_slack(processes, fake)
    return outcome("Hoedan (outbox)", report, channels, limits)


async def _follow(database: Path, expected: int, stall: float) -> None:
    """Show the fan-out's progress until every prompt is sent or nothing moved for ``stall``."""
    columns = (
        TextColumn("  fan-out"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("fan-out", total=expected)
        done, moved = 0, time.monotonic()
        while done < expected and time.monotonic() - moved < stall:
            await asyncio.sleep(0.25)
            now_done = await asyncio.to_thread(sent_prompts, database)
            if now_done != done:
                done, moved = now_done, time.monotonic()
            progress.update(task, completed=done)
    if done < expected:
        console.print(f"  [red]stalled at {done:,} of {expected:,}[/]")


async def run_bare(params: Params, channels: list[str], limits: PostLimits) -> Outcome:
    """The same posts from a bare slack_sdk client that honours Retry-After, one by one."""
    workdir = WORK / "bare"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    console.print("[bold]bare slack_sdk client[/]: the same posts, one after the other")
    with Processes() as processes:
        fake = await start_fake_slack(processes, workdir, *params.fake_args())
        client = AsyncWebClient(
            token=BOT_TOKEN,
            base_url=fake.api_url,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1_000)],
        )
        for channel in channels:
            await client.chat_postMessage(channel=channel, text="Leervraag van de week")
        report = await stop_fake_slack(processes, fake)
    return outcome("bare slack_sdk client", report, channels, limits)


def print_report(outcomes: list[Outcome], params: Params) -> None:
    table = Table(
        title=(
            f"Fan-out: {params.channels:,} channels, {params.workspace_posts} posts "
            f"per {params.window_seconds:g} s allowed"
            + (f", {params.latency_ms:g} ms per post" if params.latency_ms else "")
        ),
        title_justify="left",
    )
    for heading in ("target", "sent", "lost", "doubled", "429s", "first→last s", "allowed s", "÷"):
        table.add_column(heading, justify="left" if heading == "target" else "right")
    for found in outcomes:
        table.add_row(
            found.target,
            f"{found.delivered:,}",
            str(found.lost),
            str(found.doubled),
            f"{found.refused:,}",
            "—" if found.span_s is None else f"{found.span_s:.1f}",
            f"{found.allowed_s:.1f}",
            "—" if found.ratio is None else f"{found.ratio:.2f}",
        )
    console.print(table)
    hoedan = outcomes[0]
    met = hoedan.lost == 0 and hoedan.doubled == 0 and (hoedan.ratio or 99) <= GOAL_RATIO
    verdict = "[green]met[/]" if met else "[red]not met[/]"
    console.print(
        f"Goal (informational): none lost, none doubled, first→last within "
        f"{GOAL_RATIO:.0%} of what the limits allow: {verdict}"
    )


async def main_async(params: Params) -> list[Outcome]:
    channels = channel_ids(params.channels)
    limits = PostLimits(
        workspace_posts=params.workspace_posts, window_seconds=params.window_seconds
    )
    return [
        await run_hoedan(params, channels, limits),
        await run_bare(params, channels, limits),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--workspace-posts", type=int, default=600, help="posts per window")
    parser.add_argument("--window-seconds", type=float, default=60.0)
    parser.add_argument("--stall", type=float, default=90.0, help="give up after s idle")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="each post takes this long (round trip)"
    )
    parser.add_argument("--quick", action="store_true", help="100 channels, 60 per 10 s")
    args = parser.parse_args()
    params = Params(
        channels=100 if args.quick else args.channels,
        workspace_posts=60 if args.quick else args.workspace_posts,
        window_seconds=10.0 if args.quick else args.window_seconds,
        stall=args.stall,
        latency_ms=args.latency_ms,
    )
    started = time.monotonic()
    outcomes = asyncio.run(main_async(params))
    print_report(outcomes, params)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "fanout.json"
    path.write_text(
        json.dumps(
            {
                "params": asdict(params),
                "outcomes": [{**asdict(found), "ratio": found.ratio} for found in outcomes],
                "python": sys.version.split()[0],
            },
            indent=2,
        )
    )
    console.print(f"wrote {path.relative_to(Path.cwd())} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
