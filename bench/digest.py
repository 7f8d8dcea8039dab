"""How fast the coordinators' digest builds over a year of a busy network, and in how much memory.

Run ``python -m bench.digest`` from the repository root (``--quick`` for a smoke run on a
small network, 10 coalitions and about 32,000 rows; ``--postgres URL`` to measure PostgreSQL
too; ``--seed N``; ``--repeat N``). It

1. generates one year of a network (``bench._digest_data``: 50 coalitions in 12 regions, 1,500
   members, about 230,000 rows) into a fresh, migrated SQLite file in ``bench/results/work/``,
   and with ``--postgres`` into a schema of its own in that database, dropped afterwards;
2. builds the digest (``flows.digest.build``) for the last week and for the whole year,
   ``--repeat`` times each, every time in a fresh child process: the first build of a
   process, timed from an open connection inside the transaction, as when Hoedan sends a
   digest; then two more in the same process (warm: statements compiled, caches filled);
3. measures memory in those processes: the peak resident set (``ru_maxrss``) before the build
   and after it, and, in one more process per period, the Python heap's peak during the build
   and what it still holds afterwards (``tracemalloc``; traced in a process of its own because
   tracing slows allocation down);
4. as the baseline, in fresh processes too, times a bare ``SELECT count(*)`` over each table
   the digest reads, and prints build ÷ baseline: the machines here are noisy, and ratios
   travel better than seconds;
5. times each repository call a warm ``build()`` makes (the repositories' methods wrapped
   on the transaction's instances, so the calls and their arguments are ``build()``'s own),
   and what is left: Python in ``build()``; to show where the time goes.

The child processes are forked from a small fork server (``multiprocessing``'s
``forkserver``), one per measurement. Not from this process: on Linux a child's ``ru_maxrss``
starts from its parent's resident set (with ``vfork``, as ``subprocess`` and ``spawn`` use,
even from the parent's peak, kept across ``exec``), and this process holds the generator's
memory. Each child also reports the kernel's own peak of its image (``VmHWM``) as a cross-check.

The goals, a build under 2 s (median of the fresh-process builds) and a peak under 200 MB (the
largest peak resident set of those processes, interpreter and libraries included), are printed
as met or not met for information; the exit status is 0 unless something crashed. Results go
to ``bench/results/digest.json``; the SQLite file of the last run stays in
``bench/results/work/`` for inspection.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import multiprocessing
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sized
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text

from flows.digest import Digest, build
from storage.database import DatabaseUrls, resolve_database_url
from storage.repositories.digest import WEEK, Window
from storage.store import Store, Transaction

if TYPE_CHECKING:
    from bench._digest_data import Year

# The child processes import this module too, and their memory figures should be the
# build's. So what only the parent needs (rich, the data generator, the matcher benchmark's
# helpers, Alembic) is imported inside the functions that use it.

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
WORK = RESULTS / "work"

GOAL_SECONDS = 2.0
GOAL_MB = 200.0
"""The goals: a year of 50 coalitions (≥ 200,000 rows) digested in under 2 s and 200 MB."""
GOAL_ROWS = 200_000
WARM = 2
"""Builds after the first in each build process."""
CHILD_TIMEOUT = 900.0
"""Seconds a child process may take before the run is given up."""
READ_TABLES = (
    "space",
    "region",
    "space_member",
    "member",
    "question",
    "answer",
    "post",
    "response",
    "intervision_session",
    "intervision_participant",
    "lesson",
    "reflection_round",
    "reflection_participation",
    "reflection_answer",
    "house_rule_set",
    "house_rule_version",
    "house_rule_acknowledgement",
    "outbox_message",
)
"""Every table the digest reads: the baseline counts them."""


@dataclass(frozen=True)
class Params:
    quick: bool
    seed: int
    repeat: int
    postgres: str | None


@dataclass(frozen=True)
class Stats:
    count: int
    median: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        return cls(len(values), statistics.median(values), max(values))


@dataclass
class MethodTiming:
    name: str
    calls: int
    """Calls per build."""
    rows: int
    """What they returned per build: rows, or entries of a dict."""
    median_ms: float
    max_ms: float


@dataclass
class WindowResult:
    name: str
    start: str
    end: str
    cold: Stats
    """Seconds: the first build of a fresh process."""
    warm: Stats
    """Seconds: later builds in the same processes."""
    baseline: Stats
    """Seconds: the count pass, first in a fresh process."""
    baseline_warm: Stats
    rss_before_mb: float
    """Median peak resident set of the build processes before the build (after imports and
    opening the connection)."""
    rss_peak_mb: float
    """Largest peak resident set of the build processes, after the build."""
    rss_growth_mb: float
    """Largest growth of the peak resident set during a build."""
    vm_hwm_mb: float | None
    """Largest ``VmHWM`` of the build processes after the build (Linux): the cross-check."""
    heap_peak_mb: float
    heap_retained_mb: float
    """Python heap still held after the build: the digest itself and filled caches."""
    traced_s: float
    methods: list[MethodTiming]
    methods_build: Stats
    """Seconds: the warm builds whose calls were timed, for the calls' shares."""
    methods_rest_s: float
    """Median seconds of those builds outside repository calls: Python in ``build()``."""
    found: dict[str, Any]

    @property
    def ratio(self) -> float:
        return self.cold.median / self.baseline.median

    @property
    def warm_ratio(self) -> float:
        return self.warm.median / self.baseline_warm.median


@dataclass
class Backend:
    database: str
    rows: dict[str, int]
    load_s: float
    size_mb: float | None
    made_silent: list[str]
    made_falling: list[str]
    windows: list[WindowResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class Job:
    """What a worker builds: the network and the period."""

    network_id: int
    network: str
    window: Window


# ---------------------------------------------------------------------- the worker


def _peak_rss_mb() -> float:
    """This process's peak resident set so far (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _vm_hwm_mb() -> float | None:
    """The kernel's peak resident set of this process image (Linux only), to check
    ``ru_maxrss`` against."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


Call = tuple[str, float, int]
"""One repository call: its name, seconds, and rows (or entries) it returned."""


@dataclass
class Built:
    seconds: float
    digest: Digest
    rss_before_mb: float
    rss_after_mb: float
    heap_peak_mb: float | None = None
    heap_retained_mb: float | None = None


async def _build(
    store: Store, job: Job, *, trace: bool = False, calls: list[Call] | None = None
) -> Built:
    """One build in a transaction that has begun, as in the app; only ``build()`` is timed
    (with ``calls``, each repository call it makes too)."""
    async with store.transaction() as tx:
        await tx.session.connection()
        if calls is not None:
            _instrument(tx, calls)
        gc.collect()
        before = _peak_rss_mb()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        digest = await build(tx, network_id=job.network_id, network=job.network, window=job.window)
        seconds = time.perf_counter() - started
        built = Built(seconds, digest, before, _peak_rss_mb())
        if trace:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            built.heap_peak_mb, built.heap_retained_mb = peak / 2**20, current / 2**20
        return built


async def _build_mode(store: Store, job: Job, spec: dict[str, Any]) -> dict[str, Any]:
    first = await _build(store, job)
    hwm = _vm_hwm_mb()
    warm = [(await _build(store, job)).seconds for _ in range(spec["warm"])]
    return {
        "seconds": first.seconds,
        "warm": warm,
        "rss_before_mb": first.rss_before_mb,
        "rss_peak_mb": first.rss_after_mb,
        "vm_hwm_mb": hwm,
        "found": _found(first.digest),
    }


async def _trace_mode(store: Store, job: Job, spec: dict[str, Any]) -> dict[str, Any]:
    traced = await _build(store, job, trace=True)
    return {
        "seconds": traced.seconds,
        "heap_peak_mb": traced.heap_peak_mb,
        "heap_retained_mb": traced.heap_retained_mb,
    }


async def _count_pass(store: Store) -> tuple[float, int]:
    """The baseline: ``SELECT count(*)`` over every table the digest reads; seconds, rows."""
    async with store.transaction() as tx:
        connection = await tx.session.connection()
        started = time.perf_counter()
        rows = 0
        for table in READ_TABLES:
            statement = text(f"SELECT count(*) FROM {table}")  # noqa: S608  (fixed names)
            rows += int((await connection.execute(statement)).scalar_one())
        return time.perf_counter() - started, rows


async def _baseline_mode(store: Store, job: Job, spec: dict[str, Any]) -> dict[str, Any]:
    seconds, rows = await _count_pass(store)
    warm = [(await _count_pass(store))[0] for _ in range(spec["warm"])]
    return {"seconds": seconds, "warm": warm, "rows": rows}


def _size(result: object) -> int:
    return len(result) if isinstance(result, Sized) else 1


def _instrument(tx: Transaction, calls: list[Call]) -> None:
    """Time every repository call made on this transaction. The public coroutine methods of
    its repositories are wrapped on the instances, so ``build()`` runs as it is, with its own
    arguments, and a call it adds or drops shows up here without changes."""
    for entry in fields(tx):
        if entry.name == "session":
            continue
        repository = getattr(tx, entry.name)
        for name, _ in inspect.getmembers(type(repository), inspect.iscoroutinefunction):
            if not name.startswith("_"):
                label = name if entry.name == "digest" else f"{entry.name}.{name}"
                setattr(repository, name, _timed(label, getattr(repository, name), calls))


def _timed(
    label: str, method: Callable[..., Awaitable[Any]], calls: list[Call]
) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = await method(*args, **kwargs)
        calls.append((label, time.perf_counter() - started, _size(result)))
        return result

    return timed


async def _methods_mode(store: Store, job: Job, spec: dict[str, Any]) -> dict[str, Any]:
    """Warm builds with every repository call timed: one to warm up, then ``repeat``. A
    method called more than once per build (``longest_open``) counts as the sum of its calls."""
    await _build(store, job)
    builds: list[float] = []
    rest: list[float] = []
    seconds: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = {}
    rows: dict[str, int] = {}
    for _ in range(spec["repeat"]):
        calls: list[Call] = []
        built = await _build(store, job, calls=calls)
        builds.append(built.seconds)
        rest.append(built.seconds - sum(call_seconds for _, call_seconds, _ in calls))
        for label in dict.fromkeys(name for name, _, _ in calls):
            mine = [(call_seconds, count) for name, call_seconds, count in calls if name == label]
            seconds[label].append(sum(call_seconds for call_seconds, _ in mine))
            counts[label] = len(mine)
            rows[label] = sum(count for _, count in mine)
    return {"builds": builds, "rest": rest, "seconds": seconds, "calls": counts, "rows": rows}


WORKER_MODES: dict[str, Callable[[Store, Job, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "build": _build_mode,
    "trace": _trace_mode,
    "baseline": _baseline_mode,
    "methods": _methods_mode,
}


def _found(digest: Digest) -> dict[str, Any]:
    """What a digest said, in counts: to check that the data makes every part of it work."""
    return {
        "totals": asdict(digest.totals),
        "lines": {
            "regions": len(digest.regions),
            "coalitions": len(digest.coalitions),
            "longest_open": len(digest.longest_open),
            "sessions": len(digest.sessions),
            "lessons": len(digest.lessons),
            "rounds": len(digest.rounds),
            "rules": len(digest.rules),
            "failed": len(digest.failed),
        },
        "signals": dict(Counter(str(signal.kind) for signal in digest.signals)),
        "silent": sorted(s.subject for s in digest.signals if s.kind == "silent"),
        "falling": sorted(s.subject for s in digest.signals if s.kind == "falling_answers"),
    }


async def _work(spec: dict[str, Any]) -> dict[str, Any]:
    store = Store(resolve_database_url(spec["url"]))
    job = Job(
        network_id=spec["network_id"],
        network=spec["network"],
        window=Window(datetime.fromisoformat(spec["start"]), datetime.fromisoformat(spec["end"])),
    )
    try:
        return await WORKER_MODES[spec["mode"]](store, job, spec)
    finally:
        await store.close()


def work(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement, in a fresh child process."""
    return asyncio.run(_work(spec))


# ---------------------------------------------------------------------- the parent


Child = Callable[[dict[str, Any]], dict[str, Any]]
"""Runs one measurement (``work``) in a fresh process and returns its result."""


@contextmanager
def children() -> Iterator[Child]:
    """Fresh processes, one per measurement, forked from a small fork server."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:

        def child(spec: dict[str, Any]) -> dict[str, Any]:
            return pool.submit(work, spec).result(timeout=CHILD_TIMEOUT)

        yield child


def measure_window(
    child: Child, urls: DatabaseUrls, year: Year, name: str, window: Window, params: Params
) -> WindowResult:
    """Baseline and build processes in turn, then the traced build and the calls."""
    from bench._report import console

    spec: dict[str, Any] = {
        "url": urls.sync_url.render_as_string(hide_password=False),
        "network_id": year.network_id,
        "network": year.network,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "warm": WARM,
        "repeat": params.repeat,
    }
    baselines: list[dict[str, Any]] = []
    builds: list[dict[str, Any]] = []
    for _ in range(params.repeat):
        baselines.append(child({**spec, "mode": "baseline"}))
        builds.append(child({**spec, "mode": "build"}))
    traced = child({**spec, "mode": "trace"})
    methods = child({**spec, "mode": "methods"})
    calls = [
        MethodTiming(
            name=call,
            calls=methods["calls"][call],
            rows=methods["rows"][call],
            median_ms=statistics.median(seconds) * 1000,
            max_ms=max(seconds) * 1000,
        )
        for call, seconds in methods["seconds"].items()
    ]
    result = WindowResult(
        name=name,
        start=spec["start"],
        end=spec["end"],
        cold=Stats.of([run["seconds"] for run in builds]),
        warm=Stats.of([seconds for run in builds for seconds in run["warm"]]),
        baseline=Stats.of([run["seconds"] for run in baselines]),
        baseline_warm=Stats.of([seconds for run in baselines for seconds in run["warm"]]),
        rss_before_mb=statistics.median(run["rss_before_mb"] for run in builds),
        rss_peak_mb=max(run["rss_peak_mb"] for run in builds),
        rss_growth_mb=max(run["rss_peak_mb"] - run["rss_before_mb"] for run in builds),
        vm_hwm_mb=max((run["vm_hwm_mb"] or 0.0 for run in builds), default=None) or None,
        heap_peak_mb=traced["heap_peak_mb"],
        heap_retained_mb=traced["heap_retained_mb"],
        traced_s=traced["seconds"],
        methods=calls,
        methods_build=Stats.of(methods["builds"]),
        methods_rest_s=statistics.median(methods["rest"]),
        found=builds[0]["found"],
    )
    console.print(
        f"  {name}: build {result.cold.median:.3f} s (median of {result.cold.count}, max "
        f"{result.cold.max:.3f}), warm {result.warm.median:.3f} s, baseline "
        f"{result.baseline.median:.3f} s, peak RSS {result.rss_peak_mb:.0f} MB"
    )
    return result


def run_backend(
    child: Child,
    urls: DatabaseUrls,
    label: str,
    params: Params,
    size: Callable[[], float | None],
) -> Backend:
    from bench._digest_data import END, FULL, QUICK, YEAR, load
    from bench._report import console
    from storage.migrate import upgrade

    console.print(f"[bold]{label}[/]: generating a year of activity (seed {params.seed})")
    upgrade(urls)
    year = load(
        urls,
        seed=params.seed,
        shape=QUICK if params.quick else FULL,
        progress=lambda step: console.print(f"  {step}"),
    )
    console.print(f"  {year.total:,} rows in {year.seconds:.1f} s")
    backend = Backend(
        database=label,
        rows=year.counts,
        load_s=year.seconds,
        size_mb=size(),
        made_silent=year.silent,
        made_falling=year.falling,
    )
    windows = (("last week", END - WEEK), ("whole year", END - YEAR))
    for name, start in windows:
        window = Window(start, END)
        backend.windows.append(measure_window(child, urls, year, name, window, params))
    return backend


def _sqlite_size(path: Path) -> float:
    return (
        sum(
            Path(f"{path}{suffix}").stat().st_size
            for suffix in ("", "-wal")
            if Path(f"{path}{suffix}").exists()
        )
        / 1e6
    )


def _postgres_size(urls: DatabaseUrls) -> float | None:
    """The schema's tables with their indexes and TOAST, in MB."""
    engine = create_engine(urls.sync_url)
    try:
        with engine.connect() as connection:
            value = connection.execute(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class AS c "
                    "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            ).scalar()
    finally:
        engine.dispose()
    return None if value is None else int(value) / 1e6


def run(params: Params) -> list[Backend]:
    from bench.matcher import _fresh_sqlite, _postgres_schema

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "digest.db"
    with children() as child:
        sqlite = _fresh_sqlite(path)
        backends = [run_backend(child, sqlite, "SQLite", params, lambda: _sqlite_size(path))]
        if params.postgres:
            with _postgres_schema(params.postgres) as pg:
                backends.append(
                    run_backend(child, pg, "PostgreSQL", params, lambda: _postgres_size(pg))
                )
    return backends


# ---------------------------------------------------------------------- report


def goals(backends: list[Backend], params: Params) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for backend in backends:
        judged = not params.quick and backend.total >= GOAL_ROWS
        note = "" if judged else f"not judged: {backend.total:,} rows, the goal is at 200,000"
        for window in backend.windows:
            where = f"{backend.database}, {window.name}"
            out.append(
                {
                    "goal": f"digest build < {GOAL_SECONDS:g} s ({where})",
                    "measured": f"median {window.cold.median:.3f} s, max {window.cold.max:.3f} s"
                    f" over {window.cold.count} fresh processes",
                    "met": window.cold.median < GOAL_SECONDS if judged else None,
                    "note": note,
                }
            )
            out.append(
                {
                    "goal": f"peak memory < {GOAL_MB:g} MB ({where})",
                    "measured": f"peak RSS {window.rss_peak_mb:.0f} MB (+{window.rss_growth_mb:.0f}"
                    f" during the build), Python heap peak {window.heap_peak_mb:.1f} MB",
                    "met": window.rss_peak_mb < GOAL_MB if judged else None,
                    "note": note,
                }
            )
    return out


def print_report(backends: list[Backend], params: Params, seconds: float) -> None:
    from rich.markup import escape
    from rich.table import Table

    from bench._report import code_version, console, machine_info

    data = Table(title="Generated year (rows per table)", title_justify="left")
    data.add_column("table")
    for backend in backends:
        data.add_column(backend.database, justify="right")
    for table in backends[0].rows:
        data.add_row(table, *(f"{backend.rows.get(table, 0):,}" for backend in backends))
    data.add_row("total", *(f"{backend.total:,}" for backend in backends), style="bold")
    data.add_row("load (s)", *(f"{backend.load_s:.1f}" for backend in backends))
    data.add_row("database size (MB)", *(_mb(backend.size_mb) for backend in backends))
    console.print(data)

    timing = Table(
        title=f"Digest build: {params.repeat} fresh processes per row", title_justify="left"
    )
    for heading in (
        "database",
        "period",
        "build s\nmedian",
        "build s\nmax",
        "warm s\nmedian",
        "baseline s\nmedian",
        "build /\nbaseline",
        "warm /\nbaseline warm",
        "peak RSS\nMB",
        "RSS growth\nin build MB",
        "heap peak\nMB",
        "heap held\nafter MB",
    ):
        timing.add_column(heading, justify="left" if heading in ("database", "period") else "right")
    for backend in backends:
        for window in backend.windows:
            timing.add_row(
                backend.database,
                window.name,
                f"{window.cold.median:.3f}",
                f"{window.cold.max:.3f}",
                f"{window.warm.median:.3f}",
                f"{window.baseline.median:.3f}",
                f"{window.ratio:.1f}×",
                f"{window.warm_ratio:.1f}×",
                f"{window.rss_peak_mb:.0f}",
                f"{window.rss_growth_mb:.1f}",
                f"{window.heap_peak_mb:.1f}",
                f"{window.heap_retained_mb:.1f}",
            )
    console.print(timing)
    console.print(
        "build: the first build() in a fresh process, from an open connection; warm: the "
        f"{WARM} after it in the same process; baseline: SELECT count(*) over the "
        f"{len(READ_TABLES)} tables the digest reads, also first in a fresh process. Peak RSS "
        "is the largest over the build processes (interpreter and libraries included, before "
        "the build about "
        + ", ".join(
            f"{window.rss_before_mb:.0f}" for backend in backends for window in backend.windows
        )
        + " MB); heap: tracemalloc in a separate process."
    )
    hwm = [window.vm_hwm_mb for backend in backends for window in backend.windows]
    if all(value is not None for value in hwm):
        console.print(
            "Cross-check, the kernel's peak of each build process image (VmHWM), largest: "
            + ", ".join(f"{value:.0f}" for value in hwm if value is not None)
            + " MB."
        )

    for backend in backends:
        console.print(_calls_table(backend, params))

    console.print(_found_table(backends))
    for backend in backends:
        window = backend.windows[-1]
        silent = set(window.found["silent"])
        falling = set(window.found["falling"])
        console.print(
            f"{backend.database}: made silent {len(backend.made_silent)}, all among the "
            f"{len(silent)} silent: {_yes(set(backend.made_silent) <= silent)}; made falling "
            f"{len(backend.made_falling)}, all among the {len(falling)} falling: "
            f"{_yes(set(backend.made_falling) <= falling)}"
        )

    goal_table = Table(title="Goals (informational)", title_justify="left")
    for heading in ("goal", "measured", "status"):
        goal_table.add_column(heading)
    for goal in goals(backends, params):
        status = {True: "[green]met[/]", False: "[red]not met[/]", None: "[yellow]n/a[/]"}[
            goal["met"]
        ]
        goal_table.add_row(
            escape(goal["goal"]),
            escape(goal["measured"]),
            status + (f" ({escape(goal['note'])})" if goal["note"] else ""),
        )
    console.print(goal_table)
    code = code_version()
    console.print(
        f"Hoedan at {code['commit']}{' with uncommitted changes' if code['dirty'] else ''};"
        f" machine: {machine_info()['summary']}; run took {seconds:.0f} s"
    )


def _calls_table(backend: Backend, params: Params) -> Any:
    """The repository calls of the warm builds, slowest over the whole year first."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"Repository calls of build(), {backend.database} (warm, median of "
        f"{params.repeat} builds; ×n: calls per build, their sum)",
        title_justify="left",
    )
    table.add_column("call")
    for window in backend.windows:
        for heading in ("rows", "ms", "max ms", "share"):
            table.add_column(f"{window.name}\n{heading}", justify="right")
    named = [{call.name: call for call in window.methods} for window in backend.windows]
    order = sorted(
        {name for calls in named for name in calls},
        key=lambda name: -max(calls[name].median_ms if name in calls else 0 for calls in named),
    )
    for name in order:
        cells: list[str] = []
        times = max(calls[name].calls for calls in named if name in calls)
        for window, calls in zip(backend.windows, named, strict=True):
            call = calls.get(name)
            cells += (
                ["—"] * 4
                if call is None
                else [
                    f"{call.rows:,}",
                    f"{call.median_ms:,.1f}",
                    f"{call.max_ms:,.1f}",
                    f"{call.median_ms / 1000 / window.methods_build.median:.0%}",
                ]
            )
        table.add_row(escape(name + (f" ×{times}" if times > 1 else "")), *cells)
    summed: list[str] = []
    whole: list[str] = []
    rest: list[str] = []
    for window in backend.windows:
        build_ms = window.methods_build.median * 1000
        calls_ms = sum(call.median_ms for call in window.methods)
        rest_ms = window.methods_rest_s * 1000
        summed += ["", f"{calls_ms:,.1f}", "", f"{calls_ms / build_ms:.0%}"]
        whole += ["", f"{build_ms:,.1f}", f"{window.methods_build.max * 1000:,.1f}", "100%"]
        rest += ["", f"{rest_ms:,.1f}", "", f"{rest_ms / build_ms:.0%}"]
    table.add_row("all calls (sum of the medians)", *summed, style="bold")
    table.add_row("build() (warm, calls timed)", *whole, style="bold")
    table.add_row("the rest: Python in build()", *rest)
    return table


FOUND: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("questions asked", lambda f: f"{f['totals']['questions']:,}"),
    ("  of which answered or closed", lambda f: f"{f['totals']['answered']:,}"),
    ("questions open at the end", lambda f: f"{f['totals']['still_open']:,}"),
    ("answers", lambda f: f"{f['totals']['answers']:,}"),
    ("  to another region", lambda f: f"{f['totals']['connections']:,}"),
    ("intervision sessions", lambda f: f"{f['totals']['sessions']:,}"),
    ("shared lessons", lambda f: f"{f['totals']['lessons']:,}"),
    ("learning prompts", lambda f: f"{f['totals']['prompts']:,}"),
    ("prompt answer rate", lambda f: _share(f["totals"]["prompt_answer_rate"])),
    ("reflection rounds closed", lambda f: f"{f['totals']['rounds']:,}"),
    ("house rules adopted", lambda f: f"{f['totals']['rules_adopted']:,}"),
    ("failed deliveries", lambda f: f"{f['totals']['failed_deliveries']:,}"),
    ("region lines", lambda f: f"{f['lines']['regions']:,}"),
    ("coalition lines", lambda f: f"{f['lines']['coalitions']:,}"),
    ("signals: silent", lambda f: f"{f['signals'].get('silent', 0):,}"),
    ("signals: falling answers", lambda f: f"{f['signals'].get('falling_answers', 0):,}"),
    ("signals: waiting questions", lambda f: f"{f['signals'].get('waiting_question', 0):,}"),
    ("signals: newcomers", lambda f: f"{f['signals'].get('newcomer_unacknowledged', 0):,}"),
)
"""What the digest-found table shows, from ``_found``'s counts."""


def _found_table(backends: list[Backend]) -> Any:
    from rich.table import Table

    table = Table(title="What the digest found", title_justify="left")
    table.add_column("")
    for backend in backends:
        for window in backend.windows:
            table.add_column(f"{backend.database}\n{window.name}", justify="right")
    for label, show in FOUND:
        table.add_row(
            label, *(show(window.found) for backend in backends for window in backend.windows)
        )
    return table


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def to_json(backends: list[Backend], params: Params, seconds: float) -> dict[str, Any]:
    from bench._report import code_version, machine_info

    return {
        "benchmark": "digest",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": asdict(params) | {"postgres": bool(params.postgres)},
        "goals": goals(backends, params),
        "backends": [
            asdict(backend)
            | {
                "total_rows": backend.total,
                "ratios": {
                    window.name: {"build_to_baseline": window.ratio, "warm": window.warm_ratio}
                    for window in backend.windows
                },
            }
            for backend in backends
        ],
        "seconds": seconds,
        "machine": machine_info(),
        "code": code_version(),
    }


# ---------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> Params:
    parser = argparse.ArgumentParser(
        prog="python -m bench.digest",
        description="Digest benchmark: build time and memory over a year (see module docs).",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated data")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 10 coalitions, 300 members"
    )
    parser.add_argument(
        "--repeat", type=int, help="fresh processes per period and measure (default 5, quick 2)"
    )
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL")
    args = parser.parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (2 if args.quick else 5)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    return Params(quick=args.quick, seed=args.seed, repeat=repeat, postgres=args.postgres)


def main(argv: list[str] | None = None) -> int:
    from bench._report import console

    params = parse_args(argv)
    started = time.monotonic()
    try:
        backends = run(params)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    seconds = time.monotonic() - started
    print_report(backends, params, seconds)
    output = RESULTS / "digest.json"
    output.write_text(json.dumps(to_json(backends, params, seconds), indent=2) + "\n")
    console.print(f"wrote {output.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
