"""How long ``hoedan run`` takes to answer its health check, and how much memory it holds idle.

Run ``python -m bench.startup`` from the repository root (``--repeat N``, default 5; ``--idle
S``, default 10). For each round it starts, each in a fresh process against its own fake Slack
(``bench._fake_slack``):

1. ``hoedan run`` in Slack HTTP mode on a new SQLite file (so the start includes creating the
   schema), then again on the now migrated file (the everyday restart);
2. as the baseline, a bare Bolt ``AsyncApp`` on the same aiohttp stack (``bench.bare_bolt``).

Cold start is the time from starting the process until ``GET /healthz`` answers 200. Idle memory
is the resident set (``VmRSS``) after ``--idle`` seconds without requests, with the scheduler
and the outbox running. The goals, cold start under 2 s and idle memory under 150 MB, are
printed as met or not met for information (medians); the exit status is 0 unless something
crashed. Results go to ``bench/results/startup.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.table import Table

from bench._report import console
from bench._targets import (
    Processes,
    Target,
    start_bare_bolt,
    start_fake_slack,
    start_hoedan,
    stop_fake_slack,
    wait_healthy,
)

RESULTS = Path(__file__).resolve().parent / "results"
WORK = RESULTS / "work" / "startup"
GOAL_START_S = 2.0
GOAL_IDLE_MB = 150.0


@dataclass(frozen=True)
class Sample:
    target: str
    start_s: float
    idle_mb: float


def resident_mb(pid: int) -> float:
    """The process's resident set now (Linux ``/proc``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def measure(processes: Processes, target: Target, name: str, *, idle: float) -> Sample:
    started = await wait_healthy(target)
    await asyncio.sleep(idle)
    sample = Sample(name, started, resident_mb(target.process.pid))
    processes.stop(target.process)
    return sample


async def one_round(workdir: Path, *, idle: float) -> list[Sample]:
    samples = []
    with Processes() as processes:
        fake = await start_fake_slack(processes, workdir)
        for name in ("Hoedan, new database", "Hoedan, migrated database"):
            samples.append(
                await measure(
                    processes, start_hoedan(processes, workdir, fake.api_url), name, idle=idle
                )
            )
        samples.append(
            await measure(
                processes, start_bare_bolt(processes, workdir, fake.api_url), "bare Bolt", idle=idle
            )
        )
        await stop_fake_slack(processes, fake)
    return samples


def print_report(samples: list[Sample]) -> dict[str, dict[str, float]]:
    names = list(dict.fromkeys(sample.target for sample in samples))
    summary = {
        name: {
            "start_s": statistics.median(s.start_s for s in samples if s.target == name),
            "idle_mb": statistics.median(s.idle_mb for s in samples if s.target == name),
        }
        for name in names
    }
    bare = summary["bare Bolt"]
    table = Table(title="Cold start and idle memory (medians)", title_justify="left")
    for heading in ("target", "healthy after s", "× bare Bolt", "idle RSS MB", "× bare Bolt"):
        table.add_column(heading, justify="left" if heading == "target" else "right")
    for name, found in summary.items():
        table.add_row(
            name,
            f"{found['start_s']:.2f}",
            f"{found['start_s'] / bare['start_s']:.1f}",
            f"{found['idle_mb']:.0f}",
            f"{found['idle_mb'] / bare['idle_mb']:.1f}",
        )
    console.print(table)
    worst_start = max(summary[name]["start_s"] for name in names if name != "bare Bolt")
    worst_idle = max(summary[name]["idle_mb"] for name in names if name != "bare Bolt")
    for goal, met in (
        (f"cold start < {GOAL_START_S:g} s: {worst_start:.2f} s", worst_start < GOAL_START_S),
        (f"idle RSS < {GOAL_IDLE_MB:g} MB: {worst_idle:.0f} MB", worst_idle < GOAL_IDLE_MB),
    ):
        console.print(f"Goal (informational) {goal}: {'[green]met' if met else '[red]not met'}[/]")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()
    began = time.monotonic()
    samples: list[Sample] = []
    for number in range(1, args.repeat + 1):
        console.print(f"round {number} of {args.repeat}")
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        samples.extend(asyncio.run(one_round(WORK, idle=args.idle)))
    summary = print_report(samples)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "startup.json"
    path.write_text(
        json.dumps(
            {
                "samples": [asdict(sample) for sample in samples],
                "medians": summary,
                "python": sys.version.split()[0],
            },
            indent=2,
        )
    )
    console.print(f"wrote {path.relative_to(Path.cwd())} in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
