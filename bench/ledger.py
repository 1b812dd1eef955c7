"""The fault suite's own record of what the system acknowledged, and its reconciliation with every store.

Every request a driver (employee, officer) makes is a line: what was asked, what was answered, and the ids the
answer named (application number, post, order). A client retry is a new line; an act once acknowledged is never
asked again. After a row, `reconcile` holds each acknowledged act against the services' databases, the SMS
gateway's log and the case in Temporal; it never asks the system whether the system did right by its own rule:

- lost: an acknowledged act absent, or different, where it should be, or a case that never heard it;
- doubled: an act present twice, or an SMS the gateway accepted twice for one event;
- stalled: a case that did not reach the stage its acknowledged acts lead to within the recovery time;
- wrong stage: a case that passed through a stage only a fault could put it in."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contract import CaseStatus, Stage

# stages a case reaches only when something went wrong with it (here: only ever because of the fault)
WRONG_STAGES = {
    Stage.LAPSED_UNREGISTERED,
    Stage.LAPSED_NO_APPLICATION,
    Stage.LAPSED_NOT_RESUBMITTED,
    Stage.VERIFICATION_OVERDUE,
    Stage.POST_CREATION_OVERDUE,
    Stage.HOD_APPROVAL_OVERDUE,
    Stage.REJECTED,
    Stage.INELIGIBLE,
    Stage.SUPERANNUATED,
}

# acts whose acknowledgement the suite holds the system to, and the answer that acknowledges each
ACKNOWLEDGED = {
    "otp_request": {202},
    "otp_verify": {200},
    "document": {200, 201},
    "identity": {200, 201},
    "submit": {201, 409},  # 409 application_exists: an earlier try, whose answer was lost, was taken
    "verify": {200},  # per item of a bulk decision
    "create_post": {200},  # per post of a batch
    "approve": {200},  # per item of a bulk approval
}


@dataclass
class Line:
    at: float  # wall clock, seconds
    actor: str
    act: str
    employee_id: str
    answer: str  # the HTTP status, or the transport error's name
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def acknowledged(self) -> bool:
        return self.answer.isdigit() and int(self.answer) in ACKNOWLEDGED.get(self.act, set())


class Ledger:
    def __init__(self, path: Path | None = None):
        self.lines: list[Line] = []
        self.path = path

    def write(self, actor: str, act: str, employee_id: str, answer: str, **ids: str) -> Line:
        line = Line(time.time(), actor, act, employee_id, answer, {k: v for k, v in ids.items() if v})
        self.lines.append(line)
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(asdict(line)) + "\n")
        return line

    def acknowledged(self, act: str, employee_ids: set[str] | None = None) -> list[Line]:
        return [
            x
            for x in self.lines
            if x.act == act and x.acknowledged and (employee_ids is None or x.employee_id in employee_ids)
        ]

    def acknowledged_ids(self, act: str, key: str) -> set[str]:
        return {x.ids[key] for x in self.acknowledged(act) if key in x.ids}


@dataclass
class Stores:
    """What every store says, read after the row (the suite reads them; the system is not asked to judge)."""

    cases: dict[str, CaseStatus | None]  # Temporal: each case's status query
    applications: dict[str, str]  # applications.application: application_no -> employee_id
    decisions: dict[str, list[str]]  # verification.decision: application_no -> decisions, every round
    posts: dict[str, list[str]]  # orders.supernumerary_post: application_no -> post ids
    approvals: dict[str, bool]  # orders.case_request: application_no -> approved
    orders: dict[str, list[str]]  # orders.service_security_order: application_no -> order numbers
    registered: set[str]  # employees whose OTP verification the OTP service recorded (otp.verified in its outbox)
    gateway: list[dict[str, Any]]  # every message the SMS gateway accepted, in order
    audit_doubles: list[str] = field(default_factory=list)  # an officer act written twice in an audit log


@dataclass
class Reconciliation:
    acts: int = 0  # acknowledged acts held against the stores
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    wrong_stage: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def reconcile(ledger: Ledger, employee_ids: list[str], stores: Stores, mobiles: dict[str, str]) -> Reconciliation:
    """Each acknowledged act of these employees against every store."""
    ours = set(employee_ids)
    r = Reconciliation()
    by_employee: dict[str, dict[str, list[Line]]] = defaultdict(lambda: defaultdict(list))
    for line in ledger.lines:
        if line.employee_id in ours and line.acknowledged:
            by_employee[line.employee_id][line.act].append(line)

    for eid in employee_ids:
        acts = by_employee[eid]
        case = stores.cases.get(eid)
        stages = {h.stage for h in case.history} if case else set()
        r.acts += len(acts["otp_verify"]) + len(acts["otp_request"])
        if acts["otp_verify"] and (
            eid not in stores.registered or case is None or case.stage == Stage.AWAITING_REGISTRATION
        ):
            r.lost.append(f"{eid}: sign-in acknowledged at {_t(acts['otp_verify'][0])}, never reached the case")
        submitted = {no for x in acts["submit"] if (no := x.ids.get("application_no"))}
        if len(submitted) > 1:
            r.doubled.append(f"{eid}: two application numbers acknowledged: {sorted(submitted)}")
        for application_no in submitted:
            r.acts += 1
            if stores.applications.get(application_no) != eid:
                r.lost.append(f"{eid}: application {application_no} acknowledged, not in applications")
            elif case is None or case.application_no != application_no:
                r.lost.append(f"{eid}: application {application_no} acknowledged, the case never heard it")
        for application_no in {x.ids["application_no"] for x in acts["verify"]}:
            r.acts += 1
            decided = stores.decisions.get(application_no, [])
            if "verified" not in decided:
                r.lost.append(f"{eid}: DDO's verification of {application_no} acknowledged, not in verification")
            elif Stage.AWAITING_POST_CREATION not in stages and (case is None or case.stage != Stage.ORDER_ISSUED):
                r.lost.append(f"{eid}: DDO's verification of {application_no} acknowledged, the case never heard it")
            if decided.count("verified") > 1:
                r.doubled.append(f"{eid}: {application_no} verified {decided.count('verified')} times")
        for post_id in {x.ids["post_id"] for x in acts["create_post"]}:
            r.acts += 1
            application_no = next(x.ids["application_no"] for x in acts["create_post"] if x.ids["post_id"] == post_id)
            held = stores.posts.get(application_no, [])
            if post_id not in held:
                r.lost.append(f"{eid}: post {post_id} acknowledged, orders holds {held or 'none'}")
            elif case is None or case.post_id != post_id:
                r.lost.append(f"{eid}: post {post_id} acknowledged, the case holds {case.post_id if case else '-'}")
        for application_no in {x.ids["application_no"] for x in acts["create_post"]}:
            if len(stores.posts.get(application_no, [])) > 1:
                r.doubled.append(f"{eid}: {len(stores.posts[application_no])} posts for {application_no}")
        for application_no in {x.ids["application_no"] for x in acts["approve"]}:
            r.acts += 1
            if not stores.approvals.get(application_no):
                r.lost.append(f"{eid}: HoD's approval of {application_no} acknowledged, not in orders")
        for application_no in submitted:
            issued = stores.orders.get(application_no, [])
            if len(issued) > 1:
                r.doubled.append(f"{eid}: {len(issued)} orders for {application_no}")
            if case and case.stage == Stage.ORDER_ISSUED and case.order_no not in issued:
                r.lost.append(f"{eid}: the case says order {case.order_no}, orders holds {issued or 'none'}")
        if case is None or case.stage != Stage.ORDER_ISSUED:
            r.stalled.append(f"{eid}: at {case.stage if case else 'no answer'} when the recovery time ran out")
        elif wrong := stages & WRONG_STAGES:
            r.wrong_stage.append(f"{eid}: passed through {', '.join(sorted(wrong))}")

    # The SMS path: every acknowledged OTP request's number got an SMS at the gateway after it (the last request of
    # a number is the one that must arrive: an earlier one is replaced by it), and no event's SMS was taken twice.
    at_gateway: dict[str, list[float]] = defaultdict(list)
    keys: Counter[str] = Counter()
    for m in stores.gateway:
        at_gateway[m["to"][-10:]].append(datetime.fromisoformat(m["at"]).timestamp())
        if m.get("key"):
            keys[m["key"]] += 1
    for eid in employee_ids:
        requests = by_employee[eid]["otp_request"]
        if requests:
            last = max(x.at for x in requests)
            if not any(t >= last - 1.0 for t in at_gateway.get(mobiles.get(eid, "")[-10:], [])):
                r.lost.append(f"{eid}: OTP request acknowledged at {_t(requests[-1])}, no SMS at the gateway after it")
    ours_at_gateway = {mobiles[e][-10:] for e in employee_ids if e in mobiles}
    for m in stores.gateway:
        if m.get("key") and keys[m["key"]] > 1 and m["to"][-10:] in ours_at_gateway:
            r.doubled.append(f"SMS event {m['key']} accepted {keys[m['key']]} times by the gateway ({m['to'][-4:]})")
            keys[m["key"]] = 1  # said once
    r.doubled += stores.audit_doubles
    r.counts = Counter(x.act for x in ledger.lines if x.employee_id in ours and x.acknowledged)
    return r


def _t(line: Line) -> str:
    return datetime.fromtimestamp(line.at, UTC).strftime("%H:%M:%S")
