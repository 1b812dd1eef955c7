"""The alert rules pass promtool's own tests (each alert fires on the series that should raise it, and not on the
ones that should not), and a planted wrong expectation makes promtool fail, so the check can fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "production" / "prometheus"
PROMTOOL = ROOT / "var" / "tools" / "promtool"  # `make promtool`, which `make test` runs first


def _promtool(*args: str, cwd: Path = RULES) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), f"{PROMTOOL} missing: run `make promtool`"
    return subprocess.run([str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_rules_are_valid_and_pass_their_tests():
    checked = _promtool("check", "rules", "alerts.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "alerts_test.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_wrong_expectation_fails(tmp_path):
    shutil.copy(RULES / "alerts.yaml", tmp_path / "alerts.yaml")
    planted = (
        (RULES / "alerts_test.yaml")
        .read_text()
        .replace(
            "exp_labels: {severity: page, component: consumer-orders.escalations}",
            "exp_labels: {severity: page, component: consumer-otp.sms}",
        )
    )
    (tmp_path / "alerts_test.yaml").write_text(planted)
    assert _promtool("test", "rules", "alerts_test.yaml", cwd=tmp_path).returncode != 0
