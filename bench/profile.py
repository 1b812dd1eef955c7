"""Where a phase's Python CPU goes: py-spy samples every Python process of the stack from outside (no change to
the process, no pause: --nonblocking) while the phase runs, then the samples are folded into the functions that
spent them, by their own time and with what they called."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

PY_SPY = Path(sys.executable).parent / "py-spy"
RATE = 25  # samples a second: light beside the process, enough for where seconds go


def python_processes(stack: Any) -> dict[str, int]:
    """The stack's processes that run Python (the services, the cases worker, the portal), by name."""
    found = {}
    for name, proc in stack.procs:
        try:
            if "python" in Path(psutil.Process(proc.pid).exe()).name:
                found[name] = proc.pid
        except psutil.Error:
            continue
    return found


def fold(raw: str) -> tuple[int, Counter[str], Counter[str]]:
    """py-spy's raw (collapsed) stacks -> (samples, own samples by function, samples with the function anywhere
    on the stack). A line is `frame;frame;...;frame count`, the innermost last."""
    total, own, within = 0, Counter[str](), Counter[str]()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            within[frame] += n
    return total, own, within


class Profiler:
    """`with Profiler(stack, seconds, folder):` records each Python process for up to `seconds` (py-spy stops
    by itself; leaving the block stops it early)."""

    def __init__(self, stack: Any, seconds: float, folder: Path):
        self.stack, self.seconds, self.folder = stack, max(int(seconds), 1), folder
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        self.samples: dict[str, tuple[int, Counter[str], Counter[str]]] = {}
        self.failures: list[str] = []

    def __enter__(self) -> Profiler:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, pid in python_processes(self.stack).items():
            out = self.folder / f"{name}.txt"
            argv = [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(self.seconds)]
            argv += ["--rate", str(RATE), "--nonblocking", "--function", "--format", "raw", "-o", str(out)]
            self.running[name] = (subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out)
        return self

    def __exit__(self, *exc: object) -> None:
        for name, (proc, out) in self.running.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # py-spy writes what it has and stops
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                err = b"did not stop"
            if out.exists():
                self.samples[name] = fold(out.read_text())
            else:
                self.failures.append(f"{name}: {err.decode(errors='replace').strip()[-200:]}")

    def report(self, top: int = 12) -> str:
        """Markdown: for each process, most samples first, the functions by own time and by time within."""
        lines = [
            f"py-spy, {RATE} samples a second of each thread it does not see idle (a thread waiting in select is "
            "sometimes counted busy; a process with a thread pool is sampled in each thread): read the shares, "
            "not the seconds, which are not CPU seconds",
            "",
        ]
        for name, (total, own, within) in sorted(self.samples.items(), key=lambda kv: -kv[1][0]):
            lines += [
                f"## {name}: {total:,} samples ({total / RATE:,.0f} thread-seconds)",
                "",
                "| own | within | function |",
            ]
            lines += ["|---|---|---|"]
            busiest = [f for f, _ in own.most_common(top)]
            shown = busiest + [f for f, _ in within.most_common(top * 3) if _ours(f) and f not in busiest][:top]
            for f in shown:
                lines.append(f"| {own[f] / max(total, 1):.0%} | {within[f] / max(total, 1):.0%} | `{f}` |")
            lines.append("")
        lines += [f"- not profiled: {f}" for f in self.failures]
        return "\n".join(lines)

    def hottest(self, top: int = 6) -> str:
        """One line for the results: the busiest process and where its time went."""
        if not self.samples:
            return "profile: no samples (" + "; ".join(self.failures) + ")"
        name, (total, own, within) = max(self.samples.items(), key=lambda kv: kv[1][0])
        ours = [(f, n) for f, n in within.most_common(200) if _ours(f)][:top]
        return (
            f"profile of the busiest Python process, {name} ({total / RATE:,.0f} thread-seconds sampled): own time in "
            + ", ".join(f"{f} {n / total:.0%}" for f, n in own.most_common(top))
            + "; within our code: "
            + ", ".join(f"{f} {n / total:.0%}" for f, n in ours)
        )


def _ours(frame: str) -> bool:
    return any(f"({part}/" in frame for part in ("services", "workflows", "contract", "deploy"))
