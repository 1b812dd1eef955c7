"""The import graph keeps its shape: the contract imports none of the system; the kernel (services/common)
imports neither a service nor the workflows; a service imports no other service and no workflow code, only the
contract and the kernel; workflow code imports no service. Read from the source with `ast`, every import,
at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("otp", "applications", "verification", "orders", "portal")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "contract":
        return "contract"
    if parts[0] == "workflows":
        return "workflows"
    if parts[0] == "services" and len(parts) > 1:
        return "kernel" if parts[1] == "common" else f"service:{parts[1]}" if parts[1] in SERVICES else "cli"
    return None


def _part_of_file(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return _part(".".join(rel.parts)) or "?"


ALLOWED = {
    "contract": {"contract"},
    "kernel": {"contract", "kernel"},
    "workflows": {"contract", "kernel", "workflows"},
    **{f"service:{s}": {"contract", "kernel", f"service:{s}"} for s in SERVICES},
}
FILES = [
    p
    for d in ("contract", "services", "workflows")
    for p in sorted((ROOT / d).rglob("*.py"))
    if _part_of_file(p) in ALLOWED
]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_each_part_imports_only_what_it_may(path):
    mine = _part_of_file(path)
    wrong = sorted(m for m in _imports(path) if (_part(m) or mine) not in ALLOWED[mine])
    assert not wrong, f"{path.relative_to(ROOT)} ({mine}) imports {wrong}"


def test_the_graph_covers_every_part():
    parts = {_part_of_file(p) for p in FILES}
    assert parts == set(ALLOWED)
