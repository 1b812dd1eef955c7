"""The fault suite's quick rows (`seva faults --quick`) on the production-shaped stack: three Kafka brokers,
two replicas of every service and two cases workers. The full suite, every fault, is `make faults`."""

from __future__ import annotations

import pytest

from bench.faults import QUICK, run

pytestmark = pytest.mark.stack


def test_no_case_is_lost_doubled_or_wrongly_ended_when_a_worker_a_broker_or_a_message_goes_bad(tmp_path):
    out, rows = run(cases=45, names=QUICK, recover_within=240, out_dir=tmp_path)
    print(out.read_text())
    assert [r.fault for r in rows] == QUICK
    for r in rows:
        assert r.cases == 15 and r.ok, f"{r.fault}: {r.problems[:10]} answers {dict(r.answers)}"
