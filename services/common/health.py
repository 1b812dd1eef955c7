"""What a process reports about its background work (consumers, the outbox relay, its Temporal worker),
so that readiness (`/readyz`, the Kubernetes readiness probe) says the truth: a consumer that died or is
stuck on a message, or a relay that cannot reach Kafka, makes its process unready instead of leaving
every probe green while cases stop moving."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A component that has failed without a pause for this long is reported stalled (not ready).
STALL_AFTER_SECONDS = 60.0


@dataclass
class ComponentHealth:
    """One background component's state, updated by the component itself."""

    name: str
    kind: str  # consumer, relay, worker
    state: str = "starting"  # starting, running, retrying, restarting, stopped
    failing_since: float | None = None  # monotonic time of the first failure of the current streak
    last_error: str = ""
    last_progress: float | None = None
    failures: int = 0
    restarts: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter[str])  # by reason code
    stall_after: float = STALL_AFTER_SECONDS
    probe: Callable[[], str | None] | None = None  # extra check: returns a problem or None
    # a consumer's partitions, read by /metrics: (topic, partition) -> (messages behind, age of the message it is
    # on in seconds, 0 between messages)
    partitions: Callable[[], dict[tuple[str, int], tuple[int, float]]] | None = None

    def ok(self) -> None:
        self.state, self.failing_since, self.last_progress = "running", None, time.monotonic()

    def failed(self, error: BaseException | str, state: str = "retrying") -> None:
        self.state, self.failures = state, self.failures + 1
        self.last_error = error if isinstance(error, str) else f"{type(error).__name__}: {error}"[:300]
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    def problem(self) -> str | None:
        """Why this component makes its process unready, or None."""
        if self.probe is not None and (found := self.probe()):
            return found
        if self.state == "stopped":
            return "stopped"
        if self.failing_since is not None and time.monotonic() - self.failing_since >= self.stall_after:
            return f"{self.state} for {time.monotonic() - self.failing_since:.0f}s: {self.last_error}"
        return None

    def report(self) -> dict[str, Any]:
        problem = self.problem()
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "ready": problem is None,
            "problem": problem,
            "failures": self.failures,
            "restarts": self.restarts,
            "dead_letters": dict(self.dead_letters),
        }


class Health:
    """Every component of one process."""

    def __init__(self) -> None:
        self.components: list[ComponentHealth] = []

    def add(self, name: str, kind: str, **kw: Any) -> ComponentHealth:
        component = ComponentHealth(name, kind, **kw)
        self.components.append(component)
        return component

    def report(self) -> dict[str, Any]:
        parts = [c.report() for c in self.components]
        dead: Counter[str] = Counter()
        for c in self.components:
            dead.update(c.dead_letters)
        return {"ready": all(p["ready"] for p in parts), "components": parts, "dead_letters": dict(dead)}
