"""The fault suite's quick rows (`seva faults --quick`) on the production-shaped stack: three Kafka brokers,
two replicas of every service and two cases workers, the SMS through the HTTP gateway. The full suite, every
fault, is `make faults`. After the rows, a planted loss and a planted double: the check must see both."""

from __future__ import annotations

import pytest

from bench.faults import QUICK, SMS_REFUSAL, run

pytestmark = pytest.mark.stack
PER_ROW = 12


def test_nothing_acknowledged_is_lost_or_doubled_when_a_number_is_refused_a_worker_or_broker_dies_or_a_message_goes_bad(
    tmp_path,
):
    out, rows = run(
        per_row=PER_ROW, names=QUICK, recover_within=240, out_dir=tmp_path, plant=True, engine="dev"
    )  # make test: the dev server
    print(out.read_text())
    *real, planted = rows
    assert [r.fault for r in real] == QUICK
    for r in real:
        assert r.cases == PER_ROW and r.ok, f"{r.fault}: {r.problems[:10]} answers {dict(r.answers)}"
        assert r.acts >= PER_ROW * 4  # every case's sign-in, application, decision, post and approval at least
    refusal = real[QUICK.index(SMS_REFUSAL)]
    assert refusal.parked_as_meant >= 1 and refusal.sms_p99 is not None

    # The check can fail: one acknowledged decision deleted behind the system's back, one SMS taken twice.
    assert planted.fault.startswith("planted")
    assert (planted.lost, planted.doubled) == (1, 1), planted.problems
