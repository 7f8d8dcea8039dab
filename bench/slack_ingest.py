"""How fast Hoedan takes in Slack events, beside a bare Bolt app on the same stack.

Run ``python -m bench.slack_ingest`` from the repository root (``--quick`` for a smoke run).
For each target (``hoedan run``, then ``bench.bare_bolt``), each in its own process with its
own fake Slack process:

1. start it and wait for ``/healthz``; warm up with one event per simulated person;
2. fixed rate (open loop): ``--rate`` events/s for ``--seconds``, latency measured from each
   request's scheduled send time, so queueing in the server cannot hide (see ``bench._load``);
3. sustained (closed loop): ``--concurrency`` senders as fast as the server acknowledges.
   The goal compares acknowledgements with acknowledgements (the bare app does nothing
   else). Hoedan acknowledges before it works, so the table also shows the rate at which it
   *handled* the events (recorded in its database), timed from the start of the phase until
   the last event of the phase was handled: that is what a network would feel under overload.

The issue's goals are printed beside the figures, marked met or not met for information only:
the exit status is 0 unless something crashed. Results go to ``bench/results/slack_ingest.json``;
logs and Hoedan's database of the last run stay in ``bench/results/work/`` for inspection.

Modules: ``bench._load`` sends and does the percentile maths, ``bench._targets`` starts and
stops the processes and reads Hoedan's database, ``bench._report`` shows the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import re
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from bench._load import (
    ClosedLoopResult,
    EventFactory,
    OpenLoopResult,
    Summary,
    closed_loop,
    open_loop,
)
from bench._report import (
    GOAL_RATE,
    Handling,
    Params,
    TargetResult,
    console,
    print_report,
    to_json,
)
from bench._targets import (
    REPO,
    STOP_GRACE,
    HoedanDatabase,
    HoedanWork,
    Processes,
    Target,
    Waited,
    cpu_seconds,
    start_bare_bolt,
    start_fake_slack,
    start_hoedan,
    stop_fake_slack,
    wait_healthy,
)

RESULTS = Path(__file__).resolve().parent / "results"
WORK = RESULTS / "work"

WARMUP = "BW"
FIXED = "BF"
SUSTAINED = "BS"
"""Event-id prefixes per phase, so Hoedan's rows can be counted phase by phase."""

TARGETS = ("hoedan", "bare-bolt")


class CpuMeter:
    """CPU time a process used since the meter was made, against wall time (Linux; else None).

    A server near 100% of one core is CPU-bound; the load generator near 100% means the figures
    are the generator's limit rather than the server's.
    """

    def __init__(self, pid: int | None = None) -> None:
        self._pid = pid
        self._cpu = self._now()
        self._wall = time.monotonic()

    def _now(self) -> float | None:
        return time.process_time() if self._pid is None else cpu_seconds(self._pid)

    def used(self) -> float | None:
        """CPU seconds since the meter was made."""
        now = self._now()
        return None if now is None or self._cpu is None else now - self._cpu

    def share(self) -> float | None:
        """CPU seconds per wall second since the meter was made (1.0 = one core)."""
        used, wall = self.used(), time.monotonic() - self._wall
        return None if used is None or wall <= 0 else used / wall


async def bench_target(kind: str, params: Params, processes: Processes) -> TargetResult:
    """All phases against one target, with a fake Slack of its own."""
    workdir = WORK / kind
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    fake = await start_fake_slack(processes, workdir)
    target: Target | None = None
    try:
        if kind == "hoedan":
            target = start_hoedan(processes, workdir, fake.api_url)
        else:
            target = start_bare_bolt(processes, workdir, fake.api_url)
        console.print(f"[bold]{target.name}[/]: starting (logs in {workdir})")
        startup = await wait_healthy(target)
        result = await run_phases(target, params, startup)
        if target.process.poll() is not None:
            raise RuntimeError(
                f"{target.name} exited with {target.process.returncode} during the run; "
                f"see {target.log}"
            )
        if target.db_path is not None:
            result.database = await asyncio.to_thread(HoedanDatabase(target.db_path).table_counts)
        # Hoedan finishes acknowledged work before it exits; with a backlog left that would take
        # long, so it gets a short grace and is then killed (SQLite rolls back the open work).
        grace = 2.0 if result.stopped_with_backlog else STOP_GRACE
        result.exit_code = await asyncio.to_thread(processes.stop, target.process, grace=grace)
    finally:
        if target is not None and target.process.poll() is None:
            # Only reached when the run failed or was interrupted: stop without waiting long.
            await asyncio.to_thread(processes.stop, target.process, grace=2.0)
        calls = (await stop_fake_slack(processes, fake)).calls
    result.fake_calls = calls
    result.log_problems = _log_problems(target.log)
    return result


async def run_phases(target: Target, params: Params, startup: float) -> TargetResult:
    """Warm-up, fixed rate, sustained; for Hoedan, each followed by a wait for its work."""
    async with contextlib.AsyncExitStack() as stack:
        work = None
        if target.db_path is not None:
            work = await stack.enter_async_context(
                HoedanWork(target, HoedanDatabase(target.db_path))
            )
        return await _phases(target, params, startup, work)


async def _phases(
    target: Target, params: Params, startup: float, work: HoedanWork | None
) -> TargetResult:
    factory = EventFactory(seed=params.seed, question_every=params.question_every)
    pid = target.process.pid

    users = factory.users
    warm = [factory.make(WARMUP, i, user=users[i % len(users)]) for i in range(params.warmup)]
    baseline = await work.baseline() if work is not None else 0
    warmed = await open_loop(target.events_url, warm, rate=min(params.rate, 100.0))
    if work is not None:
        await work.wait(WARMUP, warmed.acked, baseline=baseline, idle=5.0, within=60.0)

    console.print(f"  fixed rate: {params.rate:g} events/s for {params.seconds:g} s")
    count = max(1, round(params.rate * params.seconds))
    requests = [factory.make(FIXED, i) for i in range(count)]
    baseline = await work.baseline() if work is not None else 0
    _quiet_collector()
    meter = CpuMeter(pid)
    fixed = await open_loop(target.events_url, requests, rate=params.rate)
    fixed_cpu = meter.share()
    fixed_waited: Waited | None = None
    if work is not None:
        console.print("  waiting for Hoedan to handle the fixed-rate events")
        fixed_waited = await work.wait(FIXED, fixed.acked, baseline=baseline)

    console.print(
        f"  sustained: {params.concurrency} senders for {params.seconds:g} s, as fast as acked"
    )
    baseline = await work.baseline() if work is not None else 0
    _quiet_collector()
    meter, generator = CpuMeter(pid), CpuMeter()
    sustained = await closed_loop(
        target.events_url,
        factory,
        prefix=SUSTAINED,
        concurrency=params.concurrency,
        seconds=params.seconds,
    )
    generator_cpu = generator.share()
    handling: Handling | None = None
    worked = sustained.acked
    if work is not None and fixed_waited is not None:
        console.print(
            f"  waiting for Hoedan to handle the sustained events (at most {params.max_drain:g} s)"
        )
        waited = await work.wait(
            SUSTAINED, sustained.acked, baseline=baseline, within=params.max_drain
        )
        handling = await _handling(work, fixed, fixed_waited, sustained, waited)
        # CPU per event only where the window holds exactly the phase's work: all handled.
        worked = waited.handled.count if waited.outcome == "complete" else 0
    used = meter.used()
    return TargetResult(
        name=target.name,
        startup_s=startup,
        fixed=fixed,
        sustained=sustained,
        handling=handling,
        cpu={
            "fixed_share": fixed_cpu,
            "sustained_share": meter.share(),
            "sustained_ms_per_event": None if used is None or not worked else used * 1000 / worked,
            "generator_share_sustained": generator_cpu,
        },
        exit_code=None,
        stopped_with_backlog=handling is not None and handling.sustained_outcome != "complete",
        fake_calls={},
    )


async def _handling(
    work: HoedanWork,
    fixed: OpenLoopResult,
    fixed_waited: Waited,
    sustained: ClosedLoopResult,
    waited: Waited,
) -> Handling:
    """Hoedan's figures after the acks: its own counters, and the rows it stored."""
    database = work.database
    times = await asyncio.to_thread(database.stored_times, FIXED)
    scheduled = fixed.scheduled_wall
    lag = Summary.of([times[key] - sent for key, sent in scheduled.items() if key in times])
    last_sent = max(scheduled.values(), default=None)
    last_fixed = fixed_waited.handled.last_wall
    last = waited.handled.last_wall
    span = None if last is None else last - sustained.started_wall
    sustained_stored = await asyncio.to_thread(database.stored, SUSTAINED)
    return Handling(
        source=work.source,
        fixed_expected=fixed.acked,
        fixed_handled=fixed_waited.handled.count,
        fixed_outcome=fixed_waited.outcome,
        fixed_stored=len(times),
        fixed_stored_lag=lag,
        fixed_backlog_s=None if last_fixed is None or last_sent is None else last_fixed - last_sent,
        sustained_expected=sustained.acked,
        sustained_handled=waited.handled.count,
        sustained_outcome=waited.outcome,
        sustained_stored=sustained_stored.count,
        sustained_handled_per_s=waited.handled.count / span if span else 0.0,
        sustained_span_s=span,
        sustained_backlog_s=None if span is None else span - sustained.elapsed,
    )


def _quiet_collector() -> None:
    """Collect garbage now and freeze what survives, before a timed phase.

    The requests built for a phase are many long-lived objects; without this a full collection
    could land in the middle of the phase and pause the generator, which the open loop would
    then (correctly, but misleadingly) count as server latency.
    """
    gc.collect()
    gc.freeze()


LOG_STAMP = re.compile(r"^\S*\d{4}-\d\d-\d\dT\S+\s*")
"""The ISO timestamp structlog puts first on each line."""


def _log_problems(log: Path, *, keep: int = 4) -> list[str]:
    """Warning and error lines of a target's log (it runs at WARNING), grouped by message.

    Digits are blanked before grouping, so that a warning repeated every few seconds shows as
    one line with a count instead of filling the report.
    """
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    words = ("warning", "error", "critical", "traceback", "exception")
    kinds: Counter[str] = Counter(
        re.sub(r"\d+", "#", LOG_STAMP.sub("", line).strip())[:160]
        for line in lines
        if any(word in line.lower() for word in words)
    )
    return [f"{count}× {message}" for message, count in kinds.most_common(keep)]


# ---------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> Params:
    parser = argparse.ArgumentParser(
        prog="python -m bench.slack_ingest",
        description="Slack ingest benchmark: Hoedan against a bare Bolt app (see module docs).",
    )
    parser.add_argument("--rate", type=float, help="fixed-rate phase, events/s (default 200)")
    parser.add_argument("--seconds", type=float, help="length of each phase (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="sustained-phase senders")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up events (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="seed for users, channels, texts")
    parser.add_argument(
        "--question-every",
        type=int,
        default=10,
        help="every n-th message carries #hoedan (default 10, i.e. 10%% questions)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 s phases at 100 events/s"
    )
    parser.add_argument(
        "--only", choices=TARGETS, help="run one target only (no ratios or comparison goal)"
    )
    parser.add_argument(
        "--max-drain",
        type=float,
        help="longest wait for Hoedan's sustained-phase backlog, s (default 600; --quick: 8)",
    )
    args = parser.parse_args(argv)
    max_drain = args.max_drain if args.max_drain is not None else (8.0 if args.quick else 600.0)
    rate = args.rate if args.rate is not None else (100.0 if args.quick else GOAL_RATE)
    seconds = args.seconds if args.seconds is not None else (2.0 if args.quick else 10.0)
    if (
        rate <= 0
        or seconds <= 0
        or args.concurrency < 1
        or args.warmup < 0
        or (args.question_every < 1)
    ):
        parser.error("--rate, --seconds and --concurrency must be positive")
    return Params(
        rate=rate,
        seconds=seconds,
        concurrency=args.concurrency,
        warmup=args.warmup,
        quick=args.quick,
        seed=args.seed,
        question_every=args.question_every,
        targets=(args.only,) if args.only else TARGETS,
        max_drain=max_drain,
    )


async def run(params: Params, processes: Processes) -> dict[str, TargetResult]:
    """The targets one after the other, so they never compete for the machine."""
    results: dict[str, TargetResult] = {}
    for kind in params.targets:
        results[kind] = await bench_target(kind, params, processes)
    return results


def _stop_on_sigterm(signum: int, _frame: object) -> None:
    """Turn SIGTERM into an exception, so the ``with Processes()`` block stops the servers."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    params = parse_args(argv)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with Processes() as processes:
            results = asyncio.run(run(params, processes))
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; the servers were stopped")
        return 130
    except RuntimeError as problem:
        console.print(f"[red]benchmark failed:[/] {problem}")
        return 1
    print_report(results, params)
    output = RESULTS / "slack_ingest.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(to_json(results, params), indent=2) + "\n")
    shown = output.relative_to(REPO) if output.is_relative_to(REPO) else output
    console.print(f"wrote {shown} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
