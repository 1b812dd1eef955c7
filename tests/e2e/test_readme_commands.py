"""The README's "One case by hand" commands work as written: the officer's token from the local provider is one
the services take (the README's `localhost` got a token issued by `http://localhost:.../seva`, which every service
refused 401), and `seva case` runs from a shell that has only what the line itself sets (it refused to start:
"SEVA_ENV: Field required"). The lines are read from README.md; only the ports become the test stack's."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from deploy.local.stack import DEV_PORTS

from .conftest import SEASON

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]


def readme_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## One case by hand (dev)", 1)[1].split("```", 2)[1]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def on_test_ports(line: str, stack) -> str:
    dev_oidc = DEV_PORTS.cases_health + 18
    line = line.replace(f":{dev_oidc}/", f":{stack.oidc_port}/")
    for name in ("otp", "applications", "verification", "orders"):
        line = line.replace(f":{DEV_PORTS.service(name)}/", f":{stack.ports.service(name)}/")
    return line


async def shell(line: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_shell(
        line, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_readme_token_is_taken_by_the_services(stack, http):
    line = next(line for line in readme_lines() if "/seva/token" in line)
    code, out, err = await shell(on_test_ports(line, stack), dict(os.environ))
    assert code == 0, err
    token = re.search(r'"access_token"\s*:\s*"([^"]+)"', out)
    assert token, out
    r = await http.get(f"{stack.url('orders')}/posts/awaiting", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert r.status_code == 200, r.text  # FIN-1's desk


async def test_the_readme_seva_case_runs_from_a_plain_shell(stack, master):
    line = next(line for line in readme_lines() if " case EMP" in line)
    employee_id = master.employees[0].master["employee_id"]
    line = re.sub(r"EMP\d{7}", employee_id, line)
    # the test stack's addresses (a developer's shell reaches the dev stack by the defaults), and nothing else
    # of SEVA_*: in particular not SEVA_ENV, which the README's line must set itself
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEVA_")}
    env.update({k: v for k, v in stack.environment().items() if k.startswith("SEVA_") and k != "SEVA_ENV"})
    code, out, err = await shell(line, env)
    assert code == 0, err[-2000:]
    assert f"{employee_id}" in out and SEASON in out, out
