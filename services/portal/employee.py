"""The employee's pages: sign in with mobile and OTP (and "Why no OTP?" right beside it), the application as a
short wizard (details from the Family ID beside the service record, documents, post and office, a review
before the binding submit, the receipt), and the dashboard of the case. Every form works as a plain POST; a
refused form comes back with what was typed and the reason beside the field."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contract import DOCUMENTS_WHEN_ASKED, MAX_DOCUMENT_BYTES, REQUIRED_DOCUMENTS, SeasonCalendar
from services.common.addresses import client_addr

from . import cookies, i18n
from .backend import BackendError
from .receipt import receipt_pdf
from .web import (
    FormErrors,
    Visitor,
    backend_failure,
    backend_of,
    carried,
    carry,
    need_employee,
    outage_page,
    problem_page,
    redirect_done,
    refusal,
    render,
    service_sentence,
    settings_of,
    visitor,
)

router = APIRouter()

WHEN_ASKED = DOCUMENTS_WHEN_ASKED
MEDIA_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_UPLOAD = MAX_DOCUMENT_BYTES
FORM_FIELDS = ("department_code", "district", "post_code", "ddo_code", "date_of_joining")
# A service's error code -> the form field it is about, so the sentence goes beside that field.
LOGIN_FIELDS = {"invalid_mobile": "mobile", "otp_invalid": "code", "otp_expired": "code", "invalid_request": "mobile"}
WHY_FIELDS = {"identity_not_confirmed": "family_id", "invalid_mobile": "mobile"}
IDENTITY_FIELDS = {"invalid_aadhaar": "aadhaar_number", "invalid_pan": "pan"}
APPLICATION_FIELDS = {
    "unknown_department": "department_code",
    "unknown_district": "district",
    "unknown_post": "post_code",
    "unknown_ddo": "ddo_code",
    "ddo_mismatch": "ddo_code",
    "ddo_not_on_record": "ddo_code",
    "invalid_date": "date_of_joining",
}
NEXT_STEP = {
    "awaiting_registration": "next.register",
    "awaiting_application": "next.apply",
    "awaiting_ddo_verification": "next.ddo_verification",
    "verification_overdue": "next.ddo_verification",
    "returned_for_correction": "next.resubmit",
    "awaiting_post_creation": "next.post_creation",
    "post_creation_overdue": "next.post_creation",
    "awaiting_hod_approval": "next.hod_approval",
    "hod_approval_overdue": "next.hod_approval",
}


# ---- sign in ---------------------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, expired: int = 0) -> Response:
    who = await visitor(request)
    if who.is_employee:
        return RedirectResponse("/me", status_code=303)
    kept = carried(request)
    return render(
        request,
        "employee/login.html",
        {"expired": bool(expired), "values": kept.values, "errors": kept.errors},
        status=kept.status,
    )


PENDING_SECONDS = 900  # the mobile an OTP went to is kept while its code can still be used (and a resend)


def _pending_mobile(request: Request) -> str | None:
    kept = cookies.unseal(settings_of(request), request.cookies.get(cookies.PENDING), cookies.PENDING)
    mobile = kept.get("mobile") if kept else None
    return mobile if isinstance(mobile, str) else None


@router.post("/login")
async def request_otp(request: Request, mobile: str = Form(""), step: str = Form("")) -> Response:
    """Ask for an OTP, then on to the code page by a redirect: a refresh or Back there repeats a GET, never this
    request (a second OTP, then "wait a minute")."""
    await visitor(request)
    values = {"mobile": mobile}
    back_to = "/login/code" if step == "code" and _pending_mobile(request) else "/login"
    try:
        await backend_of(request).call(
            "otp", "POST", "/otp/request", json={"mobile": mobile}, client_addr=client_addr(request)
        )
    except BackendError as err:
        if err.outage:
            return render(request, "employee/login.html", {"values": values, "outage": True}, status=503)
        return carry(request, back_to, values=values, refused=err, field_of=LOGIN_FIELDS)
    settings = settings_of(request)
    response = redirect_done("/login/code?sent=1")
    sealed = cookies.seal(settings, {"mobile": mobile}, cookies.PENDING)
    cookies.set_cookie(response, settings, cookies.PENDING, sealed, PENDING_SECONDS)
    return response


@router.get("/login/code")
async def code_page(request: Request, sent: int = 0) -> Response:
    who = await visitor(request)
    if who.is_employee:
        return RedirectResponse("/me", status_code=303)
    mobile = _pending_mobile(request)
    if mobile is None:  # no OTP asked from this browser in the last minutes: ask for one
        return RedirectResponse("/login", status_code=303)
    kept = carried(request)
    return render(
        request,
        "employee/login_code.html",
        {"values": {"mobile": mobile}, "sent": bool(sent) and not kept.errors, "errors": kept.errors},
        status=kept.status,
    )


@router.post("/login/verify")
async def verify_otp(request: Request, mobile: str = Form(""), code: str = Form("")) -> Response:
    await visitor(request)
    settings = settings_of(request)
    mobile = _pending_mobile(request) or mobile
    values = {"mobile": mobile}
    code = code.strip()
    if not re.fullmatch(r"\d{6}", code):
        return carry(request, "/login/code", keys={"code": "error.otp_invalid"})
    try:
        session = await backend_of(request).json("otp", "POST", "/otp/verify", json={"mobile": mobile, "code": code})
    except BackendError as err:
        if err.outage:
            return render(request, "employee/login_code.html", {"values": values, "outage": True}, status=503)
        return carry(request, "/login/code", refused=err, field_of=LOGIN_FIELDS)
    ttl = int(session["expires_in_seconds"])
    response = redirect_done("/me", cookies.PENDING)
    cookies.set_cookie(response, settings, cookies.EMPLOYEE, session["token"], ttl)
    cookies.set_cookie(response, settings, cookies.EXPIRES, str(int(time.time()) + ttl), ttl)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    cookies.clear_sessions(response)
    return response


# ---- before the season: "is this number yours?" (the link in an SMS) --------------------------------------

CONFIRM_PATH = re.compile(r"^[0-9a-f-]{36}$")


@router.get("/m/{confirmation_id}/{code}")
async def confirm_mobile_page(request: Request, confirmation_id: str, code: str) -> Response:
    """The page an SMS link opens before the season: the masked number and two buttons. No sign-in: the link
    is its own authority (its code is derived with the OTP key, services/otp/confirmation.py)."""
    await visitor(request)
    return await _confirmation(request, confirmation_id, code, "GET")


@router.post("/m/{confirmation_id}/{code}")
async def confirm_mobile(request: Request, confirmation_id: str, code: str, answer: str = Form("")) -> Response:
    await visitor(request)
    if answer not in ("mine", "not_mine"):
        return await _confirmation(request, confirmation_id, code, "GET")
    return await _confirmation(request, confirmation_id, code, "POST", answer)


async def _confirmation(request: Request, confirmation_id: str, code: str, method: str, answer: str = "") -> Response:
    if not CONFIRM_PATH.match(confirmation_id) or not code.isalnum():
        t = i18n.translator(i18n.language_of(request))
        return problem_page(request, 404, t("error.confirmation_not_found"), t("error.not_found_do"))
    path = f"/otp/mobile-confirmations/{confirmation_id}/{code}"
    try:
        found = await backend_of(request).json(
            "otp", method, path, json={"answer": answer} if method == "POST" else None
        )
    except BackendError as err:
        return backend_failure(request, err)
    return render(
        request,
        "employee/confirm_mobile.html",
        {"masked_mobile": found["masked_mobile"], "answer": found["answer"], "action": f"/m/{confirmation_id}/{code}"},
    )


# ---- why no OTP ------------------------------------------------------------------------------------------


@router.get("/why-no-otp")
async def why_page(request: Request, mobile: str = "") -> Response:
    await visitor(request)
    return render(request, "employee/why.html", {"values": {"mobile": mobile}})


@router.post("/why-no-otp")
async def why(
    request: Request, family_id: str = Form(""), date_of_birth: str = Form(""), mobile: str = Form("")
) -> Response:
    await visitor(request)
    values = {"family_id": family_id, "date_of_birth": date_of_birth, "mobile": mobile}
    lang = i18n.language_of(request)
    t = i18n.translator(lang)
    errors = FormErrors()
    if not _is_date(date_of_birth):
        errors.fields["date_of_birth"] = t("form.date_of_birth")
    if len(family_id.strip()) < 4:
        errors.fields["family_id"] = t("form.family_id")
    if errors:
        return render(request, "employee/why.html", {"values": values, "errors": errors}, status=422)
    try:
        answer = await backend_of(request).json(
            "otp",
            "POST",
            "/otp/why-no-otp",
            json={"family_id": family_id, "date_of_birth": date_of_birth, "mobile": mobile},
            client_addr=client_addr(request),
        )
    except BackendError as err:
        if err.outage:
            return render(request, "employee/why.html", {"values": values, "outage": True}, status=503)
        errors = refusal(request, err, WHY_FIELDS)
        return render(request, "employee/why.html", {"values": values, "errors": errors}, status=err.status)
    causes = []
    for c in answer["causes"]:
        details = c.get("details") or {}
        message = service_sentence(lang, "cause", c["code"], c["message"], details)
        said_in_full = bool(details) and i18n.has(f"cause.{c['code']}.detailed")
        causes.append(
            {
                "code": c["code"],
                "message": message,
                "remedy": service_sentence(lang, "remedy", c["code"], c["remedy"]),
                # where the catalogue cannot say the particulars (the fields that differ), the service's own
                # sentence is shown beside the Hindi one, marked as English
                "detail": c["message"] if lang != "en" and not said_in_full else None,
            }
        )
    progress = answer.get("progress")
    return render(
        request,
        "employee/why.html",
        {"values": values, "causes": causes, "progress": progress, "held": await _held_open(request, progress, lang)},
    )


# stages of a case that has not yet heard of the employee's application
BEFORE_THE_APPLICATION = (
    "awaiting_registration",
    "awaiting_application",
    "lapsed_unregistered",
    "lapsed_no_application",
)
CALENDAR_MOMENTS = ("registration_open", "registration_close", "ddo_verification", "post_creation", "order_issue")


async def _calendar(request: Request) -> SeasonCalendar | None:
    """The season's calendar in force, as published (None when it cannot be read now)."""
    try:
        raw = await backend_of(request).json("applications", "GET", "/calendar")
    except BackendError:
        return None
    known = {f.name for f in dataclasses.fields(SeasonCalendar)}
    fields: dict[str, Any] = {
        k: datetime.fromisoformat(v) if k in CALENDAR_MOMENTS else v for k, v in raw.items() if k in known
    }
    return SeasonCalendar(**fields)


async def _held_open(request: Request, progress: dict[str, Any] | None, lang: str) -> str | None:
    """An employee who reported a fault on their record before registration closed keeps registration open until
    the correction and the season's grace after it (the case holds it: contract.SeasonCalendar.registration_close_for);
    they are told until when, or how it is counted while the correction is awaited."""
    reported = progress.get("reported_at") if progress else None
    if not reported:
        return None
    calendar = await _calendar(request)
    if calendar is None:
        return None  # the answer still shows; the date is on the dashboard once they sign in
    reported_at = datetime.fromisoformat(reported)
    if reported_at > calendar.registration_close:
        return None
    t, close = i18n.translator(lang), i18n.when(calendar.registration_close, lang)
    corrected = progress.get("corrected_at") if progress else None
    corrected_at = datetime.fromisoformat(corrected) if corrected else None
    if corrected_at is not None and corrected_at >= reported_at:
        held = calendar.registration_close_for(reported_at, corrected_at)
        return t("why.held_until", close=close, date=i18n.when(held, lang))
    return t(
        "why.held_pending",
        close=close,
        days=f"{calendar.remedy_grace_days:g}",
        latest=i18n.when(calendar.ddo_verification, lang),
    )


# ---- the dashboard ---------------------------------------------------------------------------------------


@router.get("/me")
async def dashboard(request: Request) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    try:
        case = await backend_of(request).json("applications", "GET", "/applications/mine", who.token)
    except BackendError as err:
        return backend_failure(request, err)
    if case["stage"] == "awaiting_registration":
        # A signed-in employee has registered: the OTP service said so, and the case hears it a moment later
        # over Kafka. The page does not tell them to register again meanwhile.
        case["stage"] = "awaiting_application"
    return render(request, "employee/dashboard.html", {"case": case, "next_key": NEXT_STEP.get(case["stage"])})


@router.get("/me/order.pdf")
async def order_pdf(request: Request) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    backend = backend_of(request)
    try:
        case = await backend.json("applications", "GET", "/applications/mine", who.token)
        if not case.get("order_no"):
            t = i18n.translator(i18n.language_of(request))
            return problem_page(request, 404, t("error.not_found"), t("error.not_found_do"))
        r = await backend.call("orders", "GET", f"/orders/{case['order_no']}/pdf", who.token)
    except BackendError as err:
        return backend_failure(request, err)
    return Response(
        r.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{case["order_no"].replace("/", "-")}.pdf"'},
    )


# ---- the application wizard ------------------------------------------------------------------------------


@router.get("/apply")
async def details(request: Request, saved: int = 0) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    try:
        prefill = await backend_of(request).json("otp", "GET", "/master/me", who.token)
    except BackendError as err:
        return backend_failure(request, err)
    kept = carried(request)
    return render(
        request,
        "employee/apply_details.html",
        {"prefill": prefill, "step": 1, "values": kept.values, "errors": kept.errors},
        status=kept.status,
    )


@router.post("/apply/identity")
async def save_identity(request: Request, aadhaar_number: str = Form(""), pan: str = Form("")) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    backend = backend_of(request)
    values = {"pan": pan}  # the Aadhaar number is never sent back to the browser, not even to a refused form
    try:
        await backend.call(
            "applications",
            "PUT",
            "/applications/identity",
            who.token,
            json={"aadhaar_number": aadhaar_number.replace(" ", ""), "pan": pan.strip().upper()},
        )
    except BackendError as err:
        if err.outage:
            return outage_page(request)
        if err.code == "invalid_request":  # the service named the fields: the portal's own sentence for each
            named = refusal(request, err, IDENTITY_FIELDS).fields
            keys = {name: IDENTITY_HINTS[name] for name in named if name in IDENTITY_HINTS}
            if len(keys) == len(named):
                return carry(request, "/apply", values=values, keys=keys)
        return carry(request, "/apply", values=values, refused=err, field_of=IDENTITY_FIELDS)
    return redirect_done("/apply/documents?identity=1")


IDENTITY_HINTS = {"aadhaar_number": "form.aadhaar", "pan": "form.pan"}


async def _documents(request: Request, token: str) -> dict[str, Any]:
    found = await backend_of(request).json("applications", "GET", "/applications/documents", token)
    latest: dict[str, Any] = {}
    for d in found:
        if d["kind"] not in latest or d["version"] > latest[d["kind"]]["version"]:
            latest[d["kind"]] = {**d, "type": MEDIA_NAMES.get(d["media_type"], d["media_type"])}
    return latest


@router.get("/apply/documents")
async def documents(request: Request, identity: int = 0, uploaded: str = "") -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    try:
        latest = await _documents(request, who.token or "")
    except BackendError as err:
        return backend_failure(request, err)
    kept = carried(request)
    return render(
        request,
        "employee/apply_documents.html",
        {
            "step": 2,
            "latest": latest,
            "required": REQUIRED_DOCUMENTS,
            "when_asked": WHEN_ASKED,
            "identity_saved": bool(identity) and not kept.errors,
            "uploaded": "" if kept.errors else uploaded,
            "errors": kept.errors,
            "max_bytes": MAX_UPLOAD,
            "missing": [k for k in REQUIRED_DOCUMENTS if k not in latest],
        },
        status=kept.status,
    )


@router.post("/apply/documents/{kind}")
async def upload(request: Request, kind: str, document: UploadFile | None = None) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    t = i18n.translator(i18n.language_of(request))
    if kind not in REQUIRED_DOCUMENTS + WHEN_ASKED:
        return problem_page(request, 404, t("error.not_found"), t("error.not_found_do"))
    back = f"/apply/documents#doc-{kind}"
    if document is None or not document.filename:
        return carry(request, back, keys={kind: "error.no_file"})
    content = await document.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        too_large = BackendError(413, "document_too_large", TOO_LARGE)
        return carry(request, back, refused=too_large, field_of={too_large.code: kind})
    media_type = document.content_type or "application/octet-stream"
    try:
        await backend_of(request).call(
            "applications",
            "PUT",
            f"/applications/documents/{kind}",
            who.token,
            content=content,
            headers={"content-type": media_type},
        )
    except BackendError as err:
        if err.outage:
            return outage_page(request)
        one = BackendError(err.status, err.code, err.message, {k: v for k, v in err.details.items() if k != "fields"})
        return carry(request, back, refused=one, field_of={err.code: kind})
    return redirect_done(f"/apply/documents?uploaded={kind}#doc-{kind}")


TOO_LARGE = "The file is larger than 5 MB; make a smaller file or scan at a lower resolution."


async def _choices(request: Request, department_code: str, district: str) -> dict[str, Any]:
    backend = backend_of(request)
    departments = await backend.json("applications", "GET", "/master/departments")
    districts = await backend.json("applications", "GET", "/master/district-names")
    posts = await backend.json("applications", "GET", "/master/posts")
    ddos = await _ddos(request, department_code, district)
    return {"departments": departments, "districts": districts, "posts": posts, "ddos": ddos}


async def _ddos(request: Request, department_code: str, district: str) -> list[dict[str, Any]]:
    if not department_code or not district or max(len(department_code), len(district)) > LONGEST_ANSWER:
        return []  # nothing to list, or an answer no list holds (the form says it is too long)
    found: list[dict[str, Any]] = await backend_of(request).json(
        "applications", "GET", "/master/ddos", params={"department_code": department_code, "district": district}
    )
    return found


async def _form_page(
    request: Request, who: Visitor, values: dict[str, str], errors: FormErrors, status: int = 200
) -> Response:
    backend = backend_of(request)
    try:
        case = await backend.json("applications", "GET", "/applications/mine", who.token)
        if not any(values.get(f) for f in FORM_FIELDS):
            record = (await backend.json("otp", "GET", "/master/me", who.token))["service_record"]
            values = {f: record.get(f, "") for f in FORM_FIELDS}
        choices = await _choices(request, values.get("department_code", ""), values.get("district", ""))
    except BackendError as err:
        return backend_failure(request, err)
    return render(
        request,
        "employee/apply_form.html",
        {"step": 3, "values": values, "errors": errors, "case": case, **choices},
        status=status,
    )


@router.get("/apply/form")
async def form(request: Request) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    kept = carried(request)
    values = kept.values or {f: request.query_params.get(f, "") for f in FORM_FIELDS}
    return await _form_page(request, who, values, kept.errors, status=kept.status)


@router.get("/apply/ddos")
async def ddo_options(
    request: Request, department_code: str = "", district: str = "", ddo_code: str = "", ddo_wanted: str = ""
) -> Response:
    """The DDO list for a department and district: htmx swaps it into the form when either changes. The DDO
    shown is the one chosen if it is in the list, else the one the employee chose before (changing the district
    cleared the DDO, and putting the district back did not restore it)."""
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    try:
        ddos = await _ddos(request, department_code, district)
    except BackendError as err:
        return backend_failure(request, err)
    listed = {d["ddo_code"] for d in ddos}
    chosen = ddo_code if ddo_code in listed else ddo_wanted
    return render(request, "employee/_ddo_options.html", {"ddos": ddos, "values": {"ddo_code": chosen}})


async def _posted_form(request: Request) -> dict[str, str]:
    """The application form's fields as posted (from the form step, or carried by the review page)."""
    form = await request.form()
    values = {f: str(form.get(f, "")) for f in FORM_FIELDS}
    # a post that is not in the list, in the employee's words: submitted, the service refuses it and reports it
    # to the data owners (who add it; the employee is told by SMS, and their application stays open for them)
    other = re.sub(r"[^A-Z0-9]+", "-", str(form.get("post_code_other", "")).upper()).strip("-")[:40]
    if not values["post_code"] and other:
        values["post_code"] = other
    return values


# the longest answer a field of the application takes (codes, a district's name, a date); a value of 70,000
# characters was carried into an address the HTTP client refused, a 500
LONGEST_ANSWER = 120


def _check_form(values: dict[str, str]) -> dict[str, str]:
    """The form's own checks, as the catalogue's keys by field (worded on the page it goes back to)."""
    errors: dict[str, str] = {}
    for name in FORM_FIELDS:
        if not values.get(name):
            errors[name] = "form.fill_in"
        elif len(values[name]) > LONGEST_ANSWER:
            errors[name] = "form.too_long"
    if values.get("date_of_joining") and not _is_date(values["date_of_joining"]):
        errors["date_of_joining"] = "form.real_date"
    return errors


DRAFT_SECONDS = 3600  # the answers on their way to the review; the binding submit posts them again


def _with_draft(request: Request, response: Response, values: dict[str, str]) -> Response:
    settings = settings_of(request)
    sealed = cookies.seal(settings, {f: values.get(f, "")[:LONGEST_ANSWER] for f in FORM_FIELDS}, cookies.DRAFT)
    cookies.set_cookie(response, settings, cookies.DRAFT, sealed, DRAFT_SECONDS)
    return response


@router.post("/apply/review")
async def review(request: Request) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    values = await _posted_form(request)
    errors = _check_form(values)
    if errors:
        return carry(request, "/apply/form", values=values, keys=errors)
    return _with_draft(request, redirect_done("/apply/review"), values)


@router.get("/apply/review")
async def review_page(request: Request) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    draft = cookies.unseal(settings_of(request), request.cookies.get(cookies.DRAFT), cookies.DRAFT)
    values = {f: str((draft or {}).get(f, "")) for f in FORM_FIELDS}
    if not draft or _check_form(values):  # nothing to review (an old link, a cleared browser): the form
        return RedirectResponse("/apply/form", status_code=303)
    kept = carried(request)
    return await _review_page(request, who, values, kept.errors, status=kept.status)


async def _review_page(
    request: Request, who: Visitor, values: dict[str, str], errors: FormErrors, status: int = 200
) -> Response:
    backend = backend_of(request)
    try:
        case = await backend.json("applications", "GET", "/applications/mine", who.token)
        prefill = await backend.json("otp", "GET", "/master/me", who.token)
        latest = await _documents(request, who.token or "")
        choices = await _choices(request, values["department_code"], values["district"])
        identity = await _identity(request, who.token or "")
    except BackendError as err:
        return backend_failure(request, err)
    lang = i18n.language_of(request)
    names = {
        "department_code": {d["code"]: i18n.named(d, "name", lang) for d in choices["departments"]},
        "district": {d["name"]: i18n.named(d, "name", lang) for d in choices["districts"]},
        "post_code": {p["code"]: i18n.named(p, "name", lang) for p in choices["posts"]},
        "ddo_code": {d["ddo_code"]: i18n.named(d, "office_name", lang) for d in choices["ddos"]},
    }
    return render(
        request,
        "employee/apply_review.html",
        {
            "step": 4,
            "values": values,
            "names": names,
            "errors": errors,
            "case": case,
            "prefill": prefill,
            "latest": latest,
            "identity": identity,
            "required": REQUIRED_DOCUMENTS,
            "when_asked": WHEN_ASKED,
            "change_form": "/apply/form?" + urlencode(values),
            "missing": [k for k in REQUIRED_DOCUMENTS if k not in latest],
        },
        status=status,
    )


async def _identity(request: Request, token: str) -> dict[str, Any] | None:
    """The Aadhaar number (by its last four) and PAN as given, or None before they are."""
    try:
        found: dict[str, Any] = await backend_of(request).json("applications", "GET", "/applications/identity", token)
    except BackendError as err:
        if err.code == "identity_missing":
            return None
        raise
    return found


@router.post("/apply/submit")
async def submit(request: Request, confirm: str = Form("")) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    values = await _posted_form(request)
    errors = _check_form(values)
    if errors:
        return carry(request, "/apply/form", values=values, keys=errors)
    if confirm != "yes":
        return _with_draft(request, carry(request, "/apply/review", keys={"confirm": "error.confirm_needed"}), values)
    backend = backend_of(request)
    try:
        case = await backend.json("applications", "GET", "/applications/mine", who.token)
        if case.get("application_no") and case.get("status") == "returned":
            await backend.call("applications", "PUT", f"/applications/{case['application_no']}", who.token, json=values)
            number, again = case["application_no"], 1
        else:
            receipt = await backend.json("applications", "POST", "/applications", who.token, json=values)
            number, again = receipt["application_no"], 0
    except BackendError as err:
        if err.outage:
            return outage_page(request)
        if err.code in ("session_expired", "invalid_token", "unauthenticated"):
            return backend_failure(request, err)
        if err.code == "application_exists":
            return redirect_done("/me", cookies.DRAFT)
        if refusal(request, err, APPLICATION_FIELDS).fields:
            return carry(request, "/apply/form", values=values, refused=err, field_of=APPLICATION_FIELDS)
        return _with_draft(request, carry(request, "/apply/review", refused=err), values)
    return redirect_done(f"/apply/receipt?resubmitted={again}&no={quote(number, safe='')}", cookies.DRAFT)


@router.get("/apply/receipt")
async def receipt(request: Request, no: str = "", resubmitted: int = 0) -> Response:
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    if not no.strip():  # the application's number is on the dashboard
        return RedirectResponse("/me", status_code=303)
    try:
        status = await _receipt_status(request, who, no)
    except BackendError as err:
        return backend_failure(request, err)
    return render(
        request,
        "employee/receipt.html",
        {"status": status, "resubmitted": bool(resubmitted), "resubmitted_flag": resubmitted},
    )


async def _receipt_status(request: Request, who: Visitor, no: str) -> dict[str, Any]:
    status: dict[str, Any] = await backend_of(request).json(
        "applications", "GET", f"/applications/{quote(no, safe='')}", who.token
    )
    if status.get("stage") in BEFORE_THE_APPLICATION:
        # the case has not heard of the submission yet (it comes by an event, seconds later): the receipt is
        # worded from the submission itself, with the DDO's date from the calendar, never "awaiting your
        # application" with the old close
        calendar = await _calendar(request)
        status = {
            **status,
            "stage": "received",
            "next_deadline": calendar.ddo_verification.isoformat() if calendar else None,
        }
    return status


@router.get("/apply/receipt.pdf")
async def receipt_download(request: Request, no: str = "", resubmitted: int = 0) -> Response:
    """The receipt as a PDF to keep: the same particulars as the receipt page, in Hindi and English."""
    who = await need_employee(request)
    if not isinstance(who, Visitor):
        return who
    if not no.strip() or len(no) > LONGEST_ANSWER:
        return RedirectResponse("/me", status_code=303)
    try:
        status = await _receipt_status(request, who, no)
    except BackendError as err:
        return backend_failure(request, err)
    pdf = await asyncio.to_thread(receipt_pdf, status, bool(resubmitted))
    name = re.sub(r"[^A-Za-z0-9-]+", "-", no)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="receipt-{name}.pdf"'}
    )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
