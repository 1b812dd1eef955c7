"""The contract: everything that crosses a boundary between the case workflow, the cases worker and the four
services, in one place that every side imports and that imports none of them: the case id, the time zone,
the task queues, the Kafka topics, the domain events, the stages, and each activity with its input and output
types. Plain dataclasses and constants only: deterministic workflow code imports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

IST = timezone(timedelta(hours=5, minutes=30))  # every date an employee or officer sees is Indian Standard Time


# Seasons whose cases were started as `case-<employee id>`, before case ids carried the season: their running
# cases keep those ids (and are found by them).
BARE_ID_SEASONS = frozenset({"2025-26"})


def case_workflow_id(employee_id: str, season_id: str) -> str:
    """The case's workflow id: the season and the employee id, no personal data (it is readable on the Temporal
    server). One case per employee per season: a second season starts its own cases beside the first's."""
    if season_id in BARE_ID_SEASONS:
        return f"case-{employee_id}"
    return f"case-{season_id}-{employee_id}"


RETIREMENT_AGE = 58

# The application's documents (the applications service checks them; the portal asks for them).
REQUIRED_DOCUMENTS = ("family_id", "aadhaar", "pan", "appointment_letter", "experience_certificate", "bank_passbook")
DOCUMENTS_WHEN_ASKED = ("education_certificate", "caste_certificate")
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# The reason codes a DDO may give for a rejection (the verification service takes them; the portal offers them).
REJECTION_REASONS = (
    "not_in_service_record",
    "service_not_continuous",
    "under_five_years",
    "not_sanctioned_post",
    "wrong_pay_head",
    "over_retirement_age",
    "not_covered_group",
    "documents_not_genuine",
    "particulars_mismatch",
    "duplicate_application",
)


def birthday_at(born: date, age: int) -> date:
    """The day someone born on `born` turns `age`: their birthday that year, or 1 March for someone born on
    29 February when that year has none. The eligibility rule (below 58) and the order (secure until the 58th
    birthday) both use it, so they can never disagree by a day."""
    if (born.month, born.day) == (2, 29):
        try:
            return born.replace(year=born.year + age)
        except ValueError:
            return date(born.year + age, 3, 1)
    return born.replace(year=born.year + age)


AGE_CONVENTIONS = ("day_before_birthday", "birthday")


def attains_age_on(born: date, age: int, convention: str = "day_before_birthday") -> date:
    """The day the law says someone born on `born` attains `age`. Indian law counts a person as attaining an
    age on the day before the birthday (Supreme Court, Prabhu Dayal Sesma v. State of Rajasthan, 1986): the
    default. The convention is data (the eligibility rule's parameters), so a state rule that says otherwise
    is a change of data, not of code."""
    if convention not in AGE_CONVENTIONS:
        raise ValueError(f"unknown age convention {convention!r}; one of {', '.join(AGE_CONVENTIONS)}")
    birthday = birthday_at(born, age)
    return birthday - timedelta(days=1) if convention == "day_before_birthday" else birthday


def superannuation_date(born: date, age: int = RETIREMENT_AGE, convention: str = "day_before_birthday") -> date:
    """The last day of service under the state's service rules: the last day of the month in which the
    employee attains the retirement age. The order prints it as the day service is secure up to."""
    attained = attains_age_on(born, age, convention)
    following = date(attained.year + attained.month // 12, attained.month % 12 + 1, 1)
    return following - timedelta(days=1)


def past_superannuation(date_of_birth: str, today: date) -> date | None:
    """The superannuation date, if `today` is after it (the employee's service has ended); None if not, or if the
    date of birth is not known. An order secures service up to that date, so none is issued after it."""
    if not date_of_birth:
        return None
    last_day = superannuation_date(date.fromisoformat(date_of_birth))
    return last_day if today > last_day else None


def case_summary(employee_id: str, department: str, district: str, ddo_code: str) -> str:
    """The case's one-line summary in the Temporal UI's list: who and where, no personal data."""
    return f"{employee_id} · {department} · {district} · {ddo_code}"


def stage_in_words(stage: str, ddo_code: str, department: str) -> str:
    """What the case waits for, and on whom, as ops read it at a glance."""
    return {
        "awaiting_registration": "awaiting registration by the employee (mobile OTP)",
        "awaiting_application": "awaiting the employee's application",
        "awaiting_ddo_verification": f"awaiting verification by {ddo_code}",
        "returned_for_correction": "returned to the employee for correction",
        "verification_overdue": f"verification by {ddo_code} overdue",
        "awaiting_post_creation": "awaiting a supernumerary post from Finance",
        "post_creation_overdue": "supernumerary post from Finance overdue",
        "awaiting_hod_approval": f"awaiting approval by the HoD of {department}",
        "hod_approval_overdue": f"approval by the HoD of {department} overdue",
        "order_issued": "service-security order issued",
        "rejected": "rejected by the DDO",
        "ineligible": "not eligible",
        "lapsed_unregistered": "lapsed: not registered by the deadline",
        "lapsed_no_application": "lapsed: no application by the deadline",
        "lapsed_not_resubmitted": "lapsed: not resubmitted by the deadline",
        "superannuated": "closed: the employee reached superannuation before the order",
        "needs_attention": "needs attention from ops",
    }.get(stage, stage.replace("_", " "))


CASES_TASK_QUEUE = "cases"
OTP_QUEUE, APPLICATIONS_QUEUE, VERIFICATION_QUEUE, ORDERS_QUEUE = "otp", "applications", "verification", "orders"

# One topic per publishing service, keyed by employee id so a case's events stay in order.
TOPICS = {
    "otp": "otp.events",
    "applications": "applications.events",
    "verification": "verification.events",
    "orders": "orders.events",
}
SMS_TOPIC = "sms.outbound"
MASTERDATA_TOPIC = "masterdata.corrections"  # data owners (HKRN, Treasury, HARTRON) push corrections here
AUDIT_HEADS_TOPIC = "audit.heads"  # each audit chain's head, signed, published daily (`seva audit publish`)

# Steps of the season calendar, in order. Each is the deadline by which that step must be done.
REGISTRATION_CLOSE = "registration_close"
DDO_VERIFICATION = "ddo_verification"
POST_CREATION = "post_creation"
ORDER_ISSUE = "order_issue"
DEADLINE_STEPS = (REGISTRATION_CLOSE, DDO_VERIFICATION, POST_CREATION, ORDER_ISSUE)


class Stage:
    """The named stages of a case; the value of the CaseStage search attribute."""

    AWAITING_REGISTRATION = "awaiting_registration"
    AWAITING_APPLICATION = "awaiting_application"
    AWAITING_DDO_VERIFICATION = "awaiting_ddo_verification"
    RETURNED_FOR_CORRECTION = "returned_for_correction"
    VERIFICATION_OVERDUE = "verification_overdue"
    AWAITING_POST_CREATION = "awaiting_post_creation"
    POST_CREATION_OVERDUE = "post_creation_overdue"
    AWAITING_HOD_APPROVAL = "awaiting_hod_approval"
    HOD_APPROVAL_OVERDUE = "hod_approval_overdue"
    ORDER_ISSUED = "order_issued"
    REJECTED = "rejected"
    INELIGIBLE = "ineligible"
    LAPSED_UNREGISTERED = "lapsed_unregistered"
    LAPSED_NO_APPLICATION = "lapsed_no_application"
    LAPSED_NOT_RESUBMITTED = "lapsed_not_resubmitted"
    # the employee's service ended (past the superannuation date) before the order: no order secures a past date
    SUPERANNUATED = "superannuated"
    # a step's activity failed for good (or kept failing): the case waits, findable, until ops retry it
    NEEDS_ATTENTION = "needs_attention"


class EventType:
    """Domain events that the cases worker turns into signals on the case workflow."""

    OTP_VERIFIED = "otp.verified"
    APPLICATION_SUBMITTED = "application.submitted"
    APPLICATION_RESUBMITTED = "application.resubmitted"
    VERIFICATION_DECIDED = "verification.decided"
    POST_CREATED = "post.created"
    ORDER_APPROVED = "order.approved"
    CERTIFICATE_ISSUED = "certificate.issued"
    RECORD_CORRECTED = "master.corrected"
    PHYSICAL_ORDER_VOIDED = "physical_order.voided"
    # "Why no OTP?" found a fault on the employee's record that only a certificate and a correction mend: asked
    # before registration closes, it holds the employee's registration open (SeasonCalendar.registration_close_for)
    NO_OTP_REPORTED = "otp.no_otp_reported"
    # an application refused for a post, department or DDO missing from the drop-downs (applications): like a
    # record fault reported, it holds registration open until the entry is added (ENTRY_ADDED) and the grace after
    APPLICATION_BLOCKED = "application.blocked"
    ENTRY_ADDED = "dropdown.entry_added"
    # a person in no government database certified by an officer (verification); the data owner adds the record
    NEW_RECORD_CERTIFIED = "certificate.new_record"
    # a data owner added a record on such a certificate (otp); the cases worker starts the employee's case
    RECORD_ADDED = "master.record_added"
    # the cases worker drops its calendar copy; lapsed cases hear of a registration extension (calendar_fanout)
    CALENDAR_CHANGED = "calendar.changed"
    # a missed step handed a level up (verification service); the orders service lets that officer act on it
    CASE_ESCALATED = "case.escalated"

    CASE_SIGNALS = (
        OTP_VERIFIED,
        APPLICATION_SUBMITTED,
        APPLICATION_RESUBMITTED,
        VERIFICATION_DECIDED,
        POST_CREATED,
        ORDER_APPROVED,
        CERTIFICATE_ISSUED,
        RECORD_CORRECTED,
        PHYSICAL_ORDER_VOIDED,
        NO_OTP_REPORTED,
        APPLICATION_BLOCKED,
        ENTRY_ADDED,
    )


@dataclass
class SeasonCalendar:
    season_id: str
    version: int
    registration_open: datetime
    registration_close: datetime
    ddo_verification: datetime
    post_creation: datetime
    order_issue: datetime
    escalation_days: float = 7  # how long each next level has before the case escalates again (a period of the season)
    # how long an employee whose record fault was reported in time has to register after the record is corrected
    remedy_grace_days: float = 7.0

    def deadline(self, step: str) -> datetime:
        moment: datetime = getattr(self, step)
        return moment

    def registration_close_for(self, reported_at: datetime | None, corrected_at: datetime | None) -> datetime:
        """The registration deadline in force for one employee. The state's remedy for a wrong record (the
        DDO's verification certificate, then the data owner's correction) takes officers' time the employee
        cannot shorten; an employee who reported the fault ("Why no OTP?") before registration closed is not
        shut out by that wait. Their registration stays open until the record is corrected and then for
        `remedy_grace_days`, but never past the DDO verification deadline (the application must still be
        verifiable in the season). Everyone else: the calendar's close."""
        close = self.registration_close
        if reported_at is None or reported_at > close:
            return close
        held = self.ddo_verification
        if corrected_at is not None:
            held = min(held, corrected_at + timedelta(days=self.remedy_grace_days))
        return max(close, held)


def _ist_end_of_day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=IST)


# The 2025-26 season as first announced (version 1). The state later extended registration to
# 20 Feb 2026; that is version 2, seeded beside it as data.
OFFICIAL_2025_26 = SeasonCalendar(
    season_id="2025-26",
    version=1,
    registration_open=datetime(2025, 12, 25, 0, 0, tzinfo=IST),
    registration_close=_ist_end_of_day(2026, 1, 31),
    ddo_verification=_ist_end_of_day(2026, 2, 28),
    post_creation=_ist_end_of_day(2026, 3, 31),
    order_issue=_ist_end_of_day(2026, 4, 30),
)


def shifted(calendar: SeasonCalendar, season_id: str, opens_at: datetime) -> SeasonCalendar:
    """The same season with every date moved so that registration opens at `opens_at`: a rehearsal
    season for the local stack and the tests, whose clocks cannot go back to 2025."""
    delta = opens_at - calendar.registration_open
    return SeasonCalendar(
        season_id=season_id,
        version=calendar.version,
        registration_open=calendar.registration_open + delta,
        registration_close=calendar.registration_close + delta,
        ddo_verification=calendar.ddo_verification + delta,
        post_creation=calendar.post_creation + delta,
        order_issue=calendar.order_issue + delta,
    )


@dataclass
class RegistrationHold:
    """What holds one employee's registration open (SeasonCalendar.registration_close_for): when they first
    reported a fault only others can mend, and when it was last mended. The services apply it to the calendar in
    force, not to the case's copy, which may be hours behind an administrator's change."""

    reported_at: datetime | None = None
    corrected_at: datetime | None = None


@dataclass
class CaseInput:
    employee_id: str
    season_id: str
    employee_group: str  # part1 (HKRN) | part2 (Treasury) | hartron
    department: str
    district: str
    ddo_code: str
    carried: CarriedCase | None = None  # set when the case continues as new (its earlier runs' state)
    # a case started when a data owner added the record of a person in no database: when they first reported
    # that no OTP came ("Why no OTP?") and when the record was added (SeasonCalendar.registration_close_for)
    no_otp_reported_at: datetime | None = None
    record_added_at: datetime | None = None
    # continue as new at a daily look at the calendar once the run's history is this long (tests set it low)
    continue_after_events: int = 2000


@dataclass
class CaseEvent:
    """A domain event delivered as a signal; event_id makes a redelivery harmless."""

    event_id: str
    type: str
    data: dict[str, Any] = field(default_factory=dict[str, Any])
    # when the act happened in its service (the envelope's occurred_at, in the transaction of the state change):
    # an act heard after a deadline but done before it counts as in time
    occurred_at: str | None = None


@dataclass
class VerificationTask:
    employee_id: str
    application_no: str
    ddo_code: str
    department: str
    district: str
    due_at: datetime
    # the employee's last day of service (ISO date), and whether it falls before the season's last deadline: the
    # DDO's queue puts such cases first, as the pre-season audit asks ("take this case first")
    superannuation_on: str | None = None
    take_first: bool = False


@dataclass
class CaseClosure:
    """A case closed without an order for a reason the officers on it must hear (the employee reached
    superannuation): their desks drop it and each is told, once."""

    employee_id: str
    application_no: str
    reason_code: str
    reason: str
    officer_refs: list[str]
    closed_at: datetime


@dataclass
class PostRequest:
    employee_id: str
    application_no: str
    department: str
    district: str
    post_code: str
    due_at: datetime


@dataclass
class OrderRequest:
    employee_id: str
    application_no: str
    post_id: str
    name: str = ""  # the particulars printed on the order
    father_name: str = ""
    date_of_birth: str = ""  # ISO date
    post_code: str = ""


@dataclass
class IssuedOrder:
    order_no: str
    post_id: str
    issued_at: datetime


@dataclass
class MissedDeadline:
    """Accountability: who (officer role and reference) missed which step of which case, and when."""

    employee_id: str
    application_no: str | None
    step: str
    officer_role: str
    officer_ref: str
    deadline: datetime
    noticed_at: datetime


@dataclass
class Escalation:
    """A pending case handed up a level because the officer below missed the deadline."""

    employee_id: str
    application_no: str | None
    step: str
    level: int  # 1: the next level up, 2: the one above that
    from_role: str
    from_ref: str
    to_role: str
    to_ref: str
    deadline: datetime
    days_overdue: int
    escalated_at: datetime
    respond_by: datetime


@dataclass
class SmsRequest:
    employee_id: str
    template: str
    params: dict[str, Any] = field(default_factory=dict[str, Any])
    dedupe_key: str = ""


@dataclass
class ServiceRecord:
    """The master record's facts that eligibility is decided on (no Aadhaar, no mobile). Dates are ISO
    strings: the payload converter carries datetimes, not dates."""

    employee_id: str
    employee_group: str
    date_of_birth: str
    date_of_joining: str
    service_periods: list[dict[str, Any]]
    sanctioned_post: bool
    pay_head: str
    post_code: str
    status: str
    name: str = ""
    father_name: str = ""


@dataclass
class RuleResult:
    code: str
    passed: bool
    reason: str  # in English, whole
    # the same sentence as a key and its particulars (dates as ISO), so the portal says it in the reader's language
    # (services/portal/messages.py `elig.<key>`); empty in results decided before the key existed
    key: str = ""
    facts: dict[str, str] = field(default_factory=dict)


@dataclass
class EligibilityRequest:
    employee_id: str
    application_no: str
    record: ServiceRecord


@dataclass
class EligibilityDecision:
    application_no: str
    eligible: bool
    results: list[RuleResult] = field(default_factory=list)

    @property
    def failed_reasons(self) -> list[str]:
        return [r.reason for r in self.results if not r.passed]


@dataclass
class StageChange:
    at: datetime
    stage: str
    note: str = ""


@dataclass
class CaseStatus:
    employee_id: str
    stage: str
    application_no: str | None = None
    post_id: str | None = None
    order_no: str | None = None
    next_step: str | None = None
    next_deadline: datetime | None = None
    calendar_version: int = 0
    history: list[StageChange] = field(default_factory=list)
    missed_deadlines: list[MissedDeadline] = field(default_factory=list)
    eligibility: EligibilityDecision | None = None
    escalated: bool = False
    needs_attention: str | None = None  # why the case waits for ops (stage needs_attention)
    # a record fault reported in time holds this employee's registration open past the calendar's close
    registration_held: bool = False
    registration_hold: RegistrationHold | None = None


@dataclass
class CarriedCase:
    """What a case carries into its next run when it continues as new at a safe point (a daily look at the
    calendar while it waits on a step), so its history stays short however long the season runs. Not the
    service record: it holds personal data, and the case reads it again when it needs it."""

    phase: int  # where the case resumes (workflows/case_state.py: Phase)
    stage: str
    next_step: str | None
    history: list[StageChange]
    missed: list[MissedDeadline]
    seen_events: list[str]
    registered: bool
    application: dict[str, Any] | None
    ddo_decision: dict[str, Any] | None
    post_id: str | None
    order_approved: bool
    eligibility: EligibilityDecision | None
    resubmissions: int
    resubmissions_seen: int
    escalated: bool
    acts: int
    announced_version: int
    reminded: list[str]
    calendar: SeasonCalendar | None
    shown_deadline: datetime | None
    runs: int
    # the first report of a fault only others can mend ("Why no OTP?" finding a record fault, an application refused
    # for an entry missing from the lists), and when the correction (or the entry) came after it
    fault_reported_at: datetime | None = None
    record_corrected_at: datetime | None = None


@dataclass(frozen=True)
class ActivityRef:
    """One activity as the case calls it: its name, the task queue of the service that runs it, and the type
    of its result (None when it returns nothing the case reads)."""

    name: str
    task_queue: str
    result_type: type[Any] | None = None


class Activities:
    """Every activity of the case, in one table: the workflow calls these, and each service registers its
    functions under these names (`@activity.defn(name=Activities.X.name)`)."""

    READ_SEASON_CALENDAR = ActivityRef("read_season_calendar", CASES_TASK_QUEUE, SeasonCalendar)  # local activity
    LOAD_SEASON_CALENDAR = ActivityRef("load_season_calendar", APPLICATIONS_QUEUE, SeasonCalendar)
    DECIDE_ELIGIBILITY = ActivityRef("decide_eligibility", APPLICATIONS_QUEUE, EligibilityDecision)
    SEND_SMS = ActivityRef("send_sms", OTP_QUEUE)
    GET_SERVICE_RECORD = ActivityRef("get_service_record", OTP_QUEUE, ServiceRecord)
    OPEN_VERIFICATION_TASK = ActivityRef("open_verification_task", VERIFICATION_QUEUE)
    RECORD_MISSED_DEADLINE = ActivityRef("record_missed_deadline", VERIFICATION_QUEUE)
    ESCALATE_CASE = ActivityRef("escalate_case", VERIFICATION_QUEUE)
    OPEN_POST_REQUEST = ActivityRef("open_post_request", ORDERS_QUEUE)
    ISSUE_ORDER = ActivityRef("issue_service_security_order", ORDERS_QUEUE, IssuedOrder)
    CLOSE_VERIFICATION_TASK = ActivityRef("close_verification_task", VERIFICATION_QUEUE)  # and tell the officers
    CLOSE_POST_REQUEST = ActivityRef("close_post_request", ORDERS_QUEUE)
