"""The import graph keeps its shape, over every Python file in the tree (not a list of folders):

- the contract imports none of the system; the kernel (services/common) imports neither a service nor the
  workflows; a service imports no other service and no workflow code, only the contract and the kernel; workflow
  code imports no service;
- `ops`, the operators' tools that cross the services (the `seva` command, the records import, the pre-season
  audit), may read every service, and reaches development code (bench/, deploy/local) only inside a function,
  so a production run never loads it;
- the development tools (bench/: the benchmark, the fault suite, the simulator; deploy/: the local stack) reach a
  service only through its HTTP API, its configuration, the contract, or the operators' tools in `ops`, never a
  service's own modules, so a service's inside can change without them; two named reads are let through, each
  with its reason (DEV_READS);
- no production part imports bench/, deploy/ or tests/; nothing imports tests/ but tests;
- no cycle among the project's modules (a lazy import counts: the records import once reached into the dev seed,
  which imported the records import).

Read from the source with `ast`, every import, at module level or inside a function."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("otp", "applications", "verification", "orders", "portal")
SKIP = {".venv", "node_modules", ".git", ".ruff_cache", ".mypy_cache", ".pytest_cache", "build", "dist"}
PRODUCTION = {"contract", "kernel", "workflows", "ops", *(f"service:{s}" for s in SERVICES)}
ALLOWED = {
    "contract": {"contract"},
    "kernel": {"contract", "kernel"},
    "workflows": {"contract", "kernel", "workflows"},
    **{f"service:{s}": {"contract", "kernel", f"service:{s}"} for s in SERVICES},
    "ops": {"contract", "kernel", "workflows", "ops", *(f"service:{s}" for s in SERVICES)},
    "bench": {"contract", "kernel", "workflows", "ops", "bench", "deploy"},
    "deploy": {"contract", "kernel", "workflows", "ops", "deploy"},
    "tests": PRODUCTION | {"bench", "deploy", "tests"},
}
LAZY_ALLOWED = {"ops": {"bench", "deploy"}}  # the development commands of `seva`, inside their functions
DEV_READS = {
    # the dev phone derives the code of an SMS the dev inbox took with the dev key, as the phone would show it
    # (no table holds a code, and the benchmark reads the inbox without going through the OTP service's API)
    ("deploy.local.phone", "services.otp.codes"),
    # the fault row "the DLT refuses the OTP template" names the template id the gateway is told to refuse
    ("bench.faults", "services.otp.sms"),
}


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    lazy: bool  # inside a function


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import in `source` (the module named `module`), relative ones resolved; `from X import Y` names
    X.Y when Y may be a module (the caller keeps it if such a module exists)."""
    found: list[Import] = []
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, lazy) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                found.append(Import(base, child.lineno, lazy))
                found.extend(Import(f"{base}.{a.name}", child.lineno, lazy) for a in child.names)
            visit(child, inner)

    visit(ast.parse(source), False)
    return found


def part(module: str) -> str | None:
    parts = module.split(".")
    head = parts[0]
    if head in ("contract", "workflows", "ops", "bench", "deploy", "tests"):
        return head
    if head == "services" and len(parts) > 1:
        if parts[1] == "common":
            return "kernel"
        return f"service:{parts[1]}" if parts[1] in SERVICES else "services?"
    if head == "services":
        return "kernel"  # the namespace package itself
    return None  # the standard library or a third-party package


def problems(source: str, module: str, is_package: bool = False) -> list[str]:
    """What this module imports that its part may not."""
    mine = part(module)
    if mine not in ALLOWED:
        return [f"{module}: a module outside every known part ({mine})"]
    wrong = []
    for imp in imports_of(source, module, is_package):
        theirs = part(imp.module)
        if theirs is None or theirs in ALLOWED[mine]:
            continue
        if imp.lazy and theirs in LAZY_ALLOWED.get(mine, set()):
            continue
        if any(
            module == reader and (imp.module == read or imp.module.startswith(read + ".")) for reader, read in DEV_READS
        ):
            continue
        wrong.append(f"{module} ({mine}) line {imp.line} imports {imp.module} ({theirs})")
    return wrong


def python_files() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if any(p in SKIP or p.endswith(".egg-info") for p in rel.parts):
            continue
        out.append(path)
    return out


FILES = python_files()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_each_part_imports_only_what_it_may(path):
    module = _module_of(path)
    assert not problems(path.read_text(), module, path.name == "__init__.py")


def test_the_graph_covers_every_file_and_every_part():
    assert len(FILES) > 150  # the walk found the tree, not one folder
    assert {part(_module_of(p)) for p in FILES} == set(ALLOWED)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def module_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """module -> the project modules it imports (a package's own __init__ is not an edge of its children)."""
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in sources.items():
        edges = {i.module for i in imports_of(source, module, is_package) if i.module in sources}
        graph[module] = edges - {module}
    return graph


def test_no_cycle_in_the_import_graph():
    sources = {_module_of(p): (p.read_text(), p.name == "__init__.py") for p in FILES}
    assert cycles(module_graph(sources)) == []


# ---- the test can fail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("services.otp.probe", "from services.applications.eligibility import evaluate\n"),
        ("services.common.probe", "import services.orders.activities\n"),
        ("workflows.probe", "def f():\n    from services.otp import records\n"),
        ("contract.probe", "from workflows import case\n"),
        ("ops.probe", "from deploy.local.seed import seed\n"),  # dev code at module level
        ("ops.probe", "from tests.e2e import helpers\n"),
        ("deploy.local.probe", "from tests.e2e.conftest import prepare_application\n"),
        ("bench.probe", "from tests.e2e import helpers\n"),
        ("bench.probe", "from services.otp.preseason import audit\n"),  # a service's inside, from the bench
        ("bench.faults", "from services.otp.codes import otp_code\n"),  # a read let through for another file
        ("deploy.local.probe", "def f():\n    from services.applications.calendar import store_version\n"),
        ("deploy.local.seed", "import services.otp.records\n"),
        ("services.verification.probe", "from ..orders import activities\n"),  # relative, across services
        ("elsewhere.probe", "import os\n"),  # a file in no known part
    ],
)
def test_a_probe_that_crosses_a_line_is_caught(module, source):
    assert problems(source, module)


def test_what_may_cross_is_let_through():
    assert not problems("def seed():\n    from deploy.local.seed import seed\n", "ops.cli")
    assert not problems(
        "from services.otp.preseason import audit\nfrom services.applications import calendar\n", "ops.x"
    )
    assert not problems("from .records import COLUMNS\n", "services.otp.router")


def test_a_planted_cycle_is_found():
    sources = {
        "ops.records_import": ("def load():\n    from deploy.local.seed import copy_new\n", False),
        "deploy.local.seed": ("from ops.records_import import MASTER_COLUMNS\n", False),
        "ops.database": ("import asyncpg\n", False),
    }
    assert cycles(module_graph(sources)) == [["deploy.local.seed", "ops.records_import"]]
