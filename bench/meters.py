"""What the benchmark's phases share: a log line, waiting for a condition with a bound, and the CPU each stack
process spends during a phase (two cores: it says who a phase waited for)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import psutil

T = TypeVar("T")


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


async def wait_for(probe: Callable[[], Awaitable[T]], timeout: float, what: str, interval: float = 0.5) -> T:
    """Poll until probe() answers something truthy: the stack crosses Kafka and Temporal asynchronously. The
    bench and the end-to-end tests share it; giving up names the last answer, so a failure says how far it got."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not reached in {timeout:.0f}s (last: {last!r})")


async def at_least(count: Callable[[], Awaitable[int]], n: int) -> int | bool:
    value = await count()
    return value >= n and value


class CpuMeter:
    """CPU seconds each stack process (with its children) and this bench process spend during a phase: the
    machine has two cores, so this says who the phase was waiting for."""

    def __init__(self, stack: Any):
        self.procs = {name: psutil.Process(p.pid) for name, p in stack.procs}
        self.own = psutil.Process()  # the driver alone: the stack's processes are its children too

    def _sample(self) -> dict[str, float]:
        out = {}
        for name, proc in self.procs.items():
            total = 0.0
            try:
                for p in [proc, *proc.children(recursive=True)]:
                    t = p.cpu_times()
                    total += t.user + t.system
            except psutil.Error:
                pass
            out[name] = total
        t = self.own.cpu_times()
        out["bench driver"] = t.user + t.system
        return out

    def __enter__(self) -> CpuMeter:
        self.start, self.t0 = self._sample(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        end, wall = self._sample(), time.monotonic() - self.t0
        self.used = {n: end[n] - self.start.get(n, 0.0) for n in end}
        self.wall = wall

    def note(self, phase: str) -> str:
        busy = sorted(self.used.items(), key=lambda kv: -kv[1])
        return (
            f"{phase}: CPU seconds over {self.wall:,.0f} s of wall time ({os.cpu_count()} cores = "
            f"{(os.cpu_count() or 1) * self.wall:,.0f} s): " + ", ".join(f"{n} {s:,.0f}" for n, s in busy if s >= 0.5)
        )
