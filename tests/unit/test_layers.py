"""Layers inside each service: a module that declares routes speaks HTTP only (parse, authorise, call,
answer); the rules and the SQL live in the service modules; the Kafka consumers of a service live in its
consumers.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROUTERS = sorted(p for p in (ROOT / "services").rglob("*.py") if "APIRouter(" in p.read_text())
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+\.|DELETE FROM)\b|ctx\.pool|\.fetchrow\(|\.fetchval\(|\.execute\(")


@pytest.mark.parametrize("path", ROUTERS, ids=[str(p.relative_to(ROOT)) for p in ROUTERS])
def test_a_router_holds_no_sql(path):
    found = sorted({m.group(0) for m in SQL.finditer(path.read_text())})
    assert not found, f"{path.relative_to(ROOT)} holds {found}: move it to the service module"


def test_every_consumer_lives_in_its_services_consumers_module():
    for path in (ROOT / "services").rglob("*.py"):
        defined = [
            n.name
            for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.FunctionDef) and n.name.endswith("_consumer")
        ]
        if defined:
            assert path.name == "consumers.py", f"{path.relative_to(ROOT)} defines {defined}"


def test_the_routers_are_found():
    assert len(ROUTERS) >= 8
