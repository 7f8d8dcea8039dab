"""Acknowledged work waits while requests are being received, in order, with a bounded backlog."""

from __future__ import annotations

import asyncio

from bot.after_ack import AfterAck, Job, Receiving


class Log:
    """Jobs that note their name when they start."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def job(self, name: str) -> Job:
        async def run() -> None:
            self.started.append(name)

        return run


async def turns(count: int = 20) -> None:
    """Give the event loop some turns, enough for any job that may start to start."""
    for _ in range(count):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)


async def started(log: Log, expected: list[str]) -> None:
    """Wait (up to five seconds) until the jobs that started are ``expected``."""
    for _ in range(100):
        if log.started == expected:
            return
        await asyncio.sleep(0.05)
    assert log.started == expected


async def test_jobs_wait_while_a_request_is_received_and_start_in_order_after() -> None:
    receiving, log = Receiving(), Log()
    work = AfterAck(receiving)

    with receiving.request():
        work.add(log.job("first"))
        work.add(log.job("second"))
        await turns()
        assert log.started == []
        assert work.in_flight == 2

    await started(log, ["first", "second"])
    await turns()
    assert work.in_flight == 0


async def test_a_request_arriving_between_jobs_holds_the_rest_back() -> None:
    receiving, log = Receiving(), Log()
    work = AfterAck(receiving)
    incoming = receiving.request()

    async def first() -> None:
        log.started.append("first")
        incoming.__enter__()  # a request comes in while the first job runs

    work.add(first)
    work.add(log.job("second"))
    await turns()
    assert log.started == ["first"]

    incoming.__exit__(None, None, None)
    await started(log, ["first", "second"])


async def test_after_a_busy_spell_jobs_wait_until_the_load_has_faded() -> None:
    receiving, log = Receiving(moment=0.05), Log()
    work = AfterAck(receiving)

    with receiving.request():
        work.add(log.job("once the load has faded"))
        await asyncio.sleep(0.3)  # six moments: the load is close to 1
    for _ in range(20):
        await asyncio.sleep(0)
    assert log.started == []

    await started(log, ["once the load has faded"])


async def test_jobs_start_under_light_load_between_requests() -> None:
    receiving, log = Receiving(moment=0.05), Log()
    work = AfterAck(receiving)
    stop = asyncio.Event()

    async def light_traffic() -> None:
        """A short request every 5 ms: the server is never quiet long, but mostly idle."""
        while not stop.is_set():
            with receiving.request():
                await asyncio.sleep(0)
            await asyncio.sleep(0.005)

    traffic = asyncio.ensure_future(light_traffic())
    try:
        work.add(log.job("under light load"))
        await started(log, ["under light load"])
    finally:
        stop.set()
        await traffic


async def test_past_the_backlog_limit_jobs_start_even_while_receiving() -> None:
    receiving, log = Receiving(), Log()
    work = AfterAck(receiving, limit=3)

    with receiving.request():
        for name in "abcde":
            work.add(log.job(name))
        await turns()

        assert log.started == ["a", "b", "c"]
        assert work.in_flight == 2


async def test_a_failing_job_does_not_stop_the_next() -> None:
    log = Log()
    work = AfterAck()

    async def broken() -> None:
        raise RuntimeError("boom")

    work.add(broken)
    work.add(log.job("after"))
    await work.drain()

    assert log.started == ["after"]


async def test_drain_runs_waiting_jobs_while_receiving_and_then_gives_acks_way_again() -> None:
    receiving, log = Receiving(), Log()
    work = AfterAck(receiving)

    with receiving.request():
        work.add(log.job("waiting"))
        await turns()
        await asyncio.wait_for(work.drain(), 5)
        assert log.started == ["waiting"]

        work.add(log.job("after the drain"))
        await turns()
        assert log.started == ["waiting"]
    await started(log, ["waiting", "after the drain"])


async def test_drain_waits_for_jobs_that_are_running() -> None:
    release = asyncio.Event()
    done: list[str] = []
    work = AfterAck()

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    work.add(slow)
    await turns()
    draining = asyncio.ensure_future(work.drain())
    await turns()
    assert not draining.done()

    release.set()
    await asyncio.wait_for(draining, 5)
    assert done == ["slow"]
    assert work.in_flight == 0


async def test_small_side_work_runs_at_once_and_is_waited_for_by_drain() -> None:
    receiving, done = Receiving(), []
    work = AfterAck(receiving)

    async def typing() -> None:
        done.append("typing")

    with receiving.request():
        work.run_now(typing())
        await turns()
        assert done == ["typing"]
    await work.drain()
    assert work.in_flight == 0
