"""The fault suite's reconciliation (bench/ledger.py) on stores written by hand: it reports what the ledger says
was acknowledged and a store does not hold, what a store holds twice, and a case left behind; and it stays
quiet when every store agrees. (The same check on a real run, with a loss and a double planted behind the
system's back, is in tests/faults/test_fault_suite.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.ledger import Ledger, Stores, reconcile
from contract import CaseStatus, Stage, StageChange

EID, APP, POST, ORDER, MOBILE = "EMP0700001", "SS-1", "SNP-1", "SSO/2026/HEALTH/000001", "9800000001"


def _ledger() -> Ledger:
    ledger = Ledger()
    ledger.write("employee", "otp_request", EID, "ConnectError")  # a client retry: a line of its own
    ledger.write("employee", "otp_request", EID, "202")
    ledger.write("employee", "otp_verify", EID, "200")
    ledger.write("employee", "submit", EID, "503")
    ledger.write("employee", "submit", EID, "409", application_no=APP)  # the try before was taken
    ledger.write("OFF-D1", "verify", EID, "200", application_no=APP)
    ledger.write("FIN-1", "create_post", EID, "200", application_no=APP, post_id=POST)
    ledger.write("HOD-HEALTH", "approve", EID, "200", application_no=APP)
    return ledger


def _case(stage: str = Stage.ORDER_ISSUED) -> CaseStatus:
    now = datetime.now(UTC)
    history = [
        StageChange(now, s)
        for s in (
            Stage.AWAITING_REGISTRATION,
            Stage.AWAITING_APPLICATION,
            Stage.AWAITING_DDO_VERIFICATION,
            Stage.AWAITING_POST_CREATION,
            Stage.AWAITING_HOD_APPROVAL,
            Stage.ORDER_ISSUED,
        )
    ]
    return CaseStatus(
        employee_id=EID,
        stage=stage,
        history=history,
        application_no=APP,
        post_id=POST,
        order_no=ORDER if stage == Stage.ORDER_ISSUED else None,
    )


def _stores(**change) -> Stores:
    sent = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    stores = Stores(
        cases={EID: _case()},
        applications={APP: EID},
        decisions={APP: ["verified"]},
        posts={APP: [POST]},
        approvals={APP: True},
        orders={APP: [ORDER]},
        registered={EID},
        gateway=[{"to": MOBILE, "at": sent, "key": "e1", "template_id": "t", "text": "123456 is your OTP"}],
    )
    for k, v in change.items():
        setattr(stores, k, v)
    return stores


def test_every_store_agreeing_with_the_ledger_is_no_finding():
    found = reconcile(_ledger(), [EID], _stores(), {EID: MOBILE})
    assert (found.lost, found.doubled, found.stalled, found.wrong_stage) == ([], [], [], [])
    assert found.acts == 6  # 1 OTP request, 1 sign-in, the application, the decision, the post, the approval


def test_an_acknowledged_decision_missing_from_verification_is_lost():
    found = reconcile(_ledger(), [EID], _stores(decisions={}), {EID: MOBILE})
    assert len(found.lost) == 1 and "verification of SS-1 acknowledged, not in verification" in found.lost[0]


def test_an_acknowledged_post_the_case_never_heard_is_lost():
    case = _case(Stage.AWAITING_POST_CREATION)
    case.post_id = None
    found = reconcile(_ledger(), [EID], _stores(cases={EID: case}), {EID: MOBILE})
    assert any("post SNP-1 acknowledged, the case holds" in x for x in found.lost)
    assert found.stalled == [f"{EID}: at awaiting_post_creation when the recovery time ran out"]


def test_an_sms_the_gateway_took_twice_for_one_event_and_two_posts_are_doubled():
    stores = _stores(posts={APP: [POST, "SNP-2"]})
    stores.gateway = stores.gateway * 2
    found = reconcile(_ledger(), [EID], stores, {EID: MOBILE})
    assert len(found.doubled) == 2, found.doubled
    assert any("accepted 2 times by the gateway" in x for x in found.doubled)
    assert any("2 posts for SS-1" in x for x in found.doubled)


def test_an_acknowledged_otp_request_with_no_sms_after_it_is_lost():
    found = reconcile(_ledger(), [EID], _stores(gateway=[]), {EID: MOBILE})
    assert any("no SMS at the gateway after it" in x for x in found.lost)
