"""The officers' pages. Sign-in is the OpenID Connect authorization code flow with PKCE at the state's identity
provider; the access token it gives is what the services check on every call, so the portal shows an officer
only what their role and scope let the services answer. The desk: the DDO's queue and review page with the
decisions and bulk verify, verification certificates, approvals, supernumerary posts, the data owners'
corrections, the calendar and its extensions, paper orders, and accountability as tables and a chart."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contract import IST, REJECTION_REASONS
from services.common.auth import (
    ADMIN_SECRETARY,
    ADMINISTRATOR,
    DATA_OFFICER,
    DDO,
    FINANCE,
    HOD,
    IdTokenRefused,
    decode_token,
    verify_id_token,
)
from services.common.errors import ApiError

from . import charts, cookies, i18n
from .backend import BackendError
from .web import (
    FormErrors,
    Visitor,
    backend_failure,
    backend_of,
    need_officer,
    outage_page,
    problem_page,
    refusal,
    render,
    settings_of,
    visitor,
)

log = logging.getLogger("seva.portal")
router = APIRouter()

# Each officer's desks, their own work first (the one they land on): the HoD approves orders, and only cases
# escalated past a DDO reach the HoD's verification queue (an HoD landed on it empty).
DESKS = {
    DDO: ("queue", "certificates"),
    HOD: ("approvals", "queue", "certificates", "paper_orders"),
    ADMIN_SECRETARY: ("queue", "approvals", "posts", "certificates", "reports"),
    FINANCE: ("posts",),
    DATA_OFFICER: ("corrections",),
    ADMINISTRATOR: ("reports", "calendar", "paper_orders"),
}
DECIDERS = (DDO, HOD, ADMIN_SECRETARY)
QUEUE_PAGE = 50  # applications on a page of the verification queue
DOCUMENT_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
REMARK_FIELDS = ("department_code", "district", "post_code", "ddo_code", "date_of_joining")
CORRECTABLE = ("mobile", "status", "pay_head", "name", "father_name", "date_of_birth")
STEPS = ("registration_close", "ddo_verification", "post_creation", "order_issue")
REPORT_GROUPS = ("stage", "department", "district", "ddo", "officer")


# ---- sign in at the identity provider ----------------------------------------------------------------------

SIGN_IN_MAX_AGE = 600  # seconds from leaving for the provider to coming back: the sign-in cookie's life too

_discovery: dict[str, dict[str, Any]] = {}


async def _provider(request: Request) -> dict[str, Any]:
    issuer = settings_of(request).oidc_issuer.rstrip("/")
    if issuer not in _discovery:
        r = await backend_of(request).http.get(f"{issuer}/.well-known/openid-configuration")
        r.raise_for_status()
        _discovery[issuer] = r.json()
    return _discovery[issuer]


def _callback_url(request: Request) -> str:
    return f"{settings_of(request).portal_public_url.rstrip('/')}/officer/callback"


@router.get("/officer")
async def sign_in_page(request: Request, expired: int = 0, failed: int = 0) -> Response:
    who = await visitor(request)
    if who.is_officer:
        return RedirectResponse("/desk", status_code=303)
    return render(request, "officer/sign_in.html", {"expired": bool(expired), "failed": bool(failed)})


@router.get("/officer/login")
async def start_sign_in(request: Request) -> Response:
    settings = settings_of(request)
    try:
        provider = await _provider(request)
    except Exception as exc:  # the provider does not answer: an outage page, not a stack trace
        log.warning("identity provider discovery failed: %r", exc)
        return outage_page(request)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": settings.portal_client_id,
        "response_type": "code",
        "redirect_uri": _callback_url(request),
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = RedirectResponse(f"{provider['authorization_endpoint']}?{urlencode(params)}", status_code=303)
    sealed = cookies.seal(settings, {"state": state, "nonce": nonce, "verifier": verifier, "at": int(time.time())})
    cookies.set_cookie(response, settings, cookies.SIGN_IN, sealed, SIGN_IN_MAX_AGE)
    return response


@router.get("/officer/callback")
async def finish_sign_in(request: Request, code: str = "", state: str = "") -> Response:
    settings = settings_of(request)
    kept = cookies.unseal(settings, request.cookies.get(cookies.SIGN_IN))
    if not kept or not code or not secrets.compare_digest(str(kept.get("state", "")), state):
        log.warning("denied: an officer sign-in came back with a state we did not send")
        return RedirectResponse("/officer?failed=1", status_code=303)
    age = time.time() - float(kept.get("at") or 0)
    if not 0 <= age <= SIGN_IN_MAX_AGE:  # the cookie's max-age is the browser's word; this is ours
        log.warning("denied: an officer sign-in came back %.0f s after it left (at most %d)", age, SIGN_IN_MAX_AGE)
        return RedirectResponse("/officer?failed=1", status_code=303)
    try:
        provider = await _provider(request)
        r = await backend_of(request).http.post(
            provider["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": _callback_url(request),
                "client_id": settings.portal_client_id,
                "client_secret": settings.portal_client_secret,
                "code_verifier": kept["verifier"],
            },
        )
    except Exception as exc:
        log.warning("identity provider token exchange failed: %r", exc)
        return outage_page(request)
    if r.status_code >= 500:
        log.warning("identity provider token exchange failed: %d", r.status_code)
        return outage_page(request)
    if r.status_code != 200:
        log.warning("denied: the identity provider refused the code (%d)", r.status_code)
        return RedirectResponse("/officer?failed=1", status_code=303)
    answer = _token_answer(r)
    if answer is None:
        log.warning("denied: the identity provider's token answer is not one (no access_token or id_token)")
        return RedirectResponse("/officer?failed=1", status_code=303)
    token = answer["access_token"]
    try:
        claims = await verify_id_token(answer["id_token"], settings.portal_client_id, str(kept.get("nonce", "")), token)
        principal = await decode_token(token, request)
    except IdTokenRefused as exc:
        log.warning("denied: an officer sign-in: %s", exc)
        return RedirectResponse("/officer?failed=1", status_code=303)
    except ApiError as exc:
        if exc.status == 503:
            return outage_page(request)
        return RedirectResponse("/officer?failed=1", status_code=303)
    if claims["sub"] != principal.subject:
        log.warning("denied: the ID token is %r's, the access token %r's", claims["sub"], principal.subject)
        return RedirectResponse("/officer?failed=1", status_code=303)
    ttl = answer["expires_in"]
    log.info("officer %s (%s) signed in to the portal", principal.subject, principal.role)
    response = RedirectResponse("/desk", status_code=303)
    response.delete_cookie(cookies.SIGN_IN, path="/")
    cookies.set_cookie(response, settings, cookies.OFFICER, token, ttl)
    cookies.set_cookie(response, settings, cookies.EXPIRES, str(int(time.time()) + ttl), ttl)
    return response


def _token_answer(r: Any) -> dict[str, Any] | None:
    """The provider's token answer, if it is one: an access token and an ID token (strings), and a lifetime
    (seconds, an hour if not said). An odd answer was a 500 page; it is a refused sign-in, logged."""
    try:
        body = r.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    token, id_token, expires_in = body.get("access_token"), body.get("id_token"), body.get("expires_in") or 3600
    if not isinstance(token, str) or not token or not isinstance(id_token, str) or not id_token:
        return None
    try:
        ttl = max(60, min(int(expires_in), 12 * 3600))
    except (TypeError, ValueError):
        return None
    return {"access_token": token, "id_token": id_token, "expires_in": ttl}


@router.post("/officer/logout")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    cookies.clear_sessions(response)
    return response


def _desk(request: Request, who: Visitor, name: str, context: dict[str, Any], status: int = 200) -> Response:
    role = who.principal.role if who.principal else ""
    return render(request, f"officer/{name}.html", {"desks": DESKS.get(role, ()), "desk": name, **context}, status)


@router.get("/desk")
async def desk(request: Request) -> Response:
    who = await need_officer(request)
    if not isinstance(who, Visitor):
        return who
    assert who.principal is not None
    first = DESKS.get(who.principal.role)
    if not first:
        t = i18n.translator(i18n.language_of(request))
        return problem_page(request, 403, t("error.forbidden"), t("error.forbidden_do"))
    return RedirectResponse(f"/desk/{first[0].replace('_', '-')}", status_code=303)


# ---- the verification queue --------------------------------------------------------------------------------


@router.get("/desk/queue")
async def queue(request: Request, status: str = "pending", page: int = 1) -> Response:
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    return await _queue_page(request, who, status, page)


async def _queue_page(
    request: Request,
    who: Visitor,
    status: str,
    page: int = 1,
    bulk: list[dict[str, Any]] | None = None,
    code: int = 200,
) -> Response:
    """The officer's queue a page at a time, with how many there are in all. Every officer's queue is of one
    department (a DDO's own, or the department escalated to its HoD or Secretary): no department filter."""
    if status not in ("pending", "verified", "returned", "rejected"):
        status = "pending"
    page = max(1, page)
    params: dict[str, Any] = {"status": status, "limit": QUEUE_PAGE, "offset": (page - 1) * QUEUE_PAGE}
    try:
        r = await backend_of(request).call("verification", "GET", "/verification/queue", who.token, params=params)
        items: list[dict[str, Any]] = r.json()
    except BackendError as err:
        return backend_failure(request, err)
    except ValueError:
        return outage_page(request)
    total = int(r.headers.get("x-total-count") or len(items))
    now = datetime.now(UTC)
    for item in items:
        item["overdue"] = datetime.fromisoformat(item["due_at"]) < now
    context = {
        "items": items,
        "status": status,
        "bulk": bulk,
        "total": total,
        "page": page,
        "first": (page - 1) * QUEUE_PAGE + 1 if items else 0,
        "last": (page - 1) * QUEUE_PAGE + len(items),
        "pages": max(1, -(-total // QUEUE_PAGE)),
    }
    if request.headers.get("hx-request") and bulk is None:
        return render(request, "officer/_queue_rows.html", context)
    return _desk(request, who, "queue", context, code)


@router.post("/desk/queue/verify")
async def bulk_verify(request: Request) -> Response:
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    chosen = [str(v) for v in form.getlist("application_no")][:500]
    t = i18n.translator(i18n.language_of(request))
    if not chosen or form.get("confirm") != "yes":  # nothing chosen, or not confirmed: nothing is sent
        message = t("error.nothing_selected") if not chosen else t("error.confirm_needed")
        return await _queue_page(
            request, who, "pending", bulk=[{"application_no": "—", "ok": False, "message": message}]
        )
    try:
        results = await backend_of(request).json(
            "verification", "POST", "/verification/decisions/bulk", who.token, json={"application_nos": chosen}
        )
    except BackendError as err:
        return backend_failure(request, err)
    return await _queue_page(request, who, "pending", bulk=results)


@router.get("/desk/applications/{application_no}")
async def review(request: Request, application_no: str, decided: str = "") -> Response:
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    return await _review_page(request, who, application_no, FormErrors(), {}, decided)


async def _names_of(request: Request, form: dict[str, Any]) -> dict[str, str]:
    """The names of the codes on an application (department, post, DDO's office), from the drop-down lists, so
    the officer reads "School Education" beside SCHOOLEDU. A list that cannot be read leaves the code alone."""
    backend = backend_of(request)
    names: dict[str, str] = {}
    try:
        for d in await backend.json("applications", "GET", "/master/departments"):
            if d["code"] == form.get("department_code"):
                names["department_code"] = d["name"]
        for p in await backend.json("applications", "GET", "/master/posts"):
            if p["code"] == form.get("post_code"):
                names["post_code"] = p["name"]
        if form.get("department_code") and form.get("district"):
            params = {"department_code": form["department_code"], "district": form["district"]}
            for o in await backend.json("applications", "GET", "/master/ddos", params=params):
                if o["ddo_code"] == form.get("ddo_code"):
                    names["ddo_code"] = o["office_name"]
    except (BackendError, KeyError, TypeError):
        pass
    return names


async def _review_page(
    request: Request,
    who: Visitor,
    application_no: str,
    errors: FormErrors,
    values: dict[str, Any],
    decided: str = "",
    status: int = 200,
) -> Response:
    backend = backend_of(request)
    try:
        found = await backend.json("applications", "GET", f"/review/applications/{quote(application_no)}", who.token)
        diagnoses: list[dict[str, Any]] = []
        record = await _record_of(request, who, found["employee_id"])
        if who.principal is not None and who.principal.role == DDO:
            diagnoses = await backend.json(
                "otp", "GET", "/otp/diagnoses", who.token, params={"employee_id": found["employee_id"], "limit": 20}
            )
    except BackendError as err:
        return backend_failure(request, err)
    kinds = sorted({d["kind"] for d in found["documents"]})
    return _desk(
        request,
        who,
        "review",
        {
            "app": found,
            "record": record,
            "names": await _names_of(request, found.get("form") or {}),
            "kinds": kinds,
            "diagnoses": diagnoses,
            "reasons": REJECTION_REASONS,
            "remark_fields": list(REMARK_FIELDS),
            "errors": errors,
            "values": values,
            "decided": decided,
        },
        status,
    )


@router.get("/desk/applications/{application_no}/documents/{kind}")
async def document(request: Request, application_no: str, kind: str) -> Response:
    """A document shown inline on the review page, fetched with the officer's own token."""
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    try:
        r = await backend_of(request).call(
            "applications", "GET", f"/review/applications/{quote(application_no)}/documents/{quote(kind)}", who.token
        )
    except BackendError as err:
        return backend_failure(request, err)
    media_type = r.headers.get("content-type", "application/octet-stream")
    # shown inside the portal's own review page: framed by the portal only (every other response may be framed
    # by nothing, and the review page's own <object> was refused), and nothing in it may load or run anything
    headers = {"Content-Disposition": "inline", "Content-Security-Policy": DOCUMENT_CSP}
    return Response(r.content, media_type=media_type, headers=headers)


async def _record_of(request: Request, who: Visitor, employee_id: str) -> dict[str, Any] | None:
    """The employee's service record (and Family ID) to compare with the documents; None if it cannot be read,
    the page says so."""
    try:
        found: dict[str, Any] = await backend_of(request).json(
            "otp", "GET", f"/master/employees/{quote(employee_id, safe='')}/record", who.token
        )
    except BackendError as err:
        if err.status == 404:
            return None
        raise
    return found


@router.post("/desk/applications/{application_no}/decision")
async def decide(request: Request, application_no: str) -> Response:
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    decision = str(form.get("decision", ""))
    reasons = [str(r) for r in form.getlist("reasons") if str(r) in REJECTION_REASONS]
    remarks: dict[str, str] = {}
    for name, own in form.multi_items():
        name = str(name)
        if name.startswith("remark_") and not name.startswith("remark_std_"):
            item = name[len("remark_") :]
            stored = i18n.remark_stored(str(form.get(f"remark_std_{item}", "")), str(own))
            if stored:
                remarks[item] = stored
    values = {"decision": decision, "reasons": reasons, "remarks": remarks}
    if decision == "verified" and form.get("confirm") != "yes":  # a verification is binding: said, not clicked
        t = i18n.translator(i18n.language_of(request))
        errors = FormErrors(fields={"confirm": t("error.confirm_needed")})
        return await _review_page(request, who, application_no, errors, values, status=422)
    body: dict[str, Any] = {"decision": decision}
    if decision == "rejected":
        body["reasons"] = reasons
    elif decision == "returned":
        body["remarks"] = remarks
    try:
        done = await backend_of(request).json(
            "verification", "POST", f"/verification/applications/{quote(application_no)}/decision", who.token, json=body
        )
    except BackendError as err:
        if err.outage:
            return outage_page(request)
        errors = refusal(request, err, {"remarks_required": "remarks", "reasons_required": "reasons"})
        return await _review_page(request, who, application_no, errors, values, status=err.status)
    return RedirectResponse(
        f"/desk/applications/{quote(application_no)}?decided={quote(done['status'])}", status_code=303
    )


# ---- verification certificates ----------------------------------------------------------------------------


@router.get("/desk/certificates")
async def certificates(request: Request, issued: str = "") -> Response:
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    return _desk(request, who, "certificates", {"issued": issued})


@router.post("/desk/certificates")
async def issue_certificate(request: Request) -> Response:
    who = await need_officer(request, *DECIDERS)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("employee_id", "remarks", "genuine", "record", "head")}
    t = i18n.translator(i18n.language_of(request))
    errors = FormErrors()
    for box in ("genuine", "record", "head"):
        if values[box] != "yes":
            errors.fields[box] = t("form.attestation")
    if len(values["remarks"].strip()) < 3:
        errors.fields["remarks"] = t("form.what_is_wrong")
    if not values["employee_id"].strip():
        errors.fields["employee_id"] = t("form.employee_id")
    if not errors:
        try:
            done = await backend_of(request).json(
                "verification",
                "POST",
                "/verification/certificates",
                who.token,
                json={
                    "employee_id": values["employee_id"].strip().upper(),
                    "genuine_contractual_employee": True,
                    "full_service_record_available": True,
                    "pay_from_contractual_head": True,
                    "remarks": values["remarks"].strip(),
                },
            )
        except BackendError as err:
            if err.outage:
                return outage_page(request)
            errors = refusal(request, err, {"employee_not_found": "employee_id", "forbidden": "employee_id"})
        else:
            return RedirectResponse(f"/desk/certificates?issued={quote(done['certificate_id'])}", status_code=303)
    return _desk(request, who, "certificates", {"values": values, "errors": errors}, 422)


# ---- approvals and supernumerary posts ---------------------------------------------------------------------


async def _list_page(
    request: Request, who: Visitor, name: str, path: str, service: str, results: Any = None, code: int = 200
) -> Response:
    try:
        items = await backend_of(request).json(service, "GET", path, who.token, params={"limit": 200})
    except BackendError as err:
        return backend_failure(request, err)
    return _desk(request, who, name, {"items": items, "results": results}, code)


async def _batch(request: Request, who: Visitor, service: str, path: str) -> Any:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("application_no")][:500]
    if not chosen:
        t = i18n.translator(i18n.language_of(request))
        return [{"application_no": "—", "ok": False, "message": t("error.nothing_selected")}]
    return await backend_of(request).json(service, "POST", path, who.token, json={"application_nos": chosen})


@router.get("/desk/approvals")
async def approvals(request: Request) -> Response:
    who = await need_officer(request, HOD, ADMIN_SECRETARY)
    if not isinstance(who, Visitor):
        return who
    return await _list_page(request, who, "approvals", "/orders/awaiting-approval", "orders")


@router.post("/desk/approvals")
async def approve(request: Request) -> Response:
    who = await need_officer(request, HOD, ADMIN_SECRETARY)
    if not isinstance(who, Visitor):
        return who
    try:
        results = await _batch(request, who, "orders", "/orders/approvals")
    except BackendError as err:
        return backend_failure(request, err)
    return await _list_page(request, who, "approvals", "/orders/awaiting-approval", "orders", results)


@router.get("/desk/posts")
async def posts(request: Request) -> Response:
    who = await need_officer(request, FINANCE, ADMIN_SECRETARY)
    if not isinstance(who, Visitor):
        return who
    return await _posts_page(request, who)


async def _posts_page(
    request: Request, who: Visitor, batch: dict[str, Any] | None = None, errors: FormErrors | None = None
) -> Response:
    items: list[dict[str, Any]] = []
    if who.principal is not None and who.principal.role == FINANCE:
        try:
            items = await backend_of(request).json("orders", "GET", "/posts/awaiting", who.token, params={"limit": 500})
        except BackendError as err:
            return backend_failure(request, err)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault((item["department"], item["post_code"]), []).append(item)
    return _desk(
        request,
        who,
        "posts",
        {"groups": groups, "batch": batch, "errors": errors or FormErrors()},
        200 if not errors else 422,
    )


@router.post("/desk/posts")
async def create_posts(request: Request) -> Response:
    who = await need_officer(request, FINANCE, ADMIN_SECRETARY)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    chosen = [str(v).strip() for v in form.getlist("application_no") if str(v).strip()]
    typed = [s.strip() for s in str(form.get("application_nos_text", "")).replace(",", "\n").splitlines() if s.strip()]
    chosen = list(dict.fromkeys(chosen + typed))[:1000]
    t = i18n.translator(i18n.language_of(request))
    if not chosen:
        return await _posts_page(request, who, errors=FormErrors(general=[t("error.nothing_selected")]))
    try:
        batch = await backend_of(request).json("orders", "POST", "/posts", who.token, json={"application_nos": chosen})
    except BackendError as err:
        if err.outage:
            return outage_page(request)
        return await _posts_page(request, who, errors=refusal(request, err))
    return await _posts_page(request, who, batch=batch)


# ---- data owners' corrections -----------------------------------------------------------------------------


@router.get("/desk/corrections")
async def corrections(request: Request, done: str = "") -> Response:
    who = await need_officer(request, DATA_OFFICER)
    if not isinstance(who, Visitor):
        return who
    return await _corrections_page(request, who, done=done)


async def _corrections_page(
    request: Request,
    who: Visitor,
    done: str = "",
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    for_id: str = "",
    code: int = 200,
) -> Response:
    try:
        items = await backend_of(request).json("otp", "GET", "/master/correction-requests", who.token)
    except BackendError as err:
        return backend_failure(request, err)
    return _desk(
        request,
        who,
        "corrections",
        {
            "items": items,
            "done": done,
            "fields": CORRECTABLE,
            "errors": errors or FormErrors(),
            "values": values or {},
            "for_id": for_id,
        },
        code,
    )


@router.post("/desk/corrections/{certificate_id}")
async def correct(request: Request, certificate_id: str) -> Response:
    who = await need_officer(request, DATA_OFFICER)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("employee_id", "field", "value", "reason")}
    t = i18n.translator(i18n.language_of(request))
    errors = FormErrors()
    if values["field"] not in CORRECTABLE:
        errors.fields["field"] = t("form.field_to_correct")
    if not values["value"]:
        errors.fields["value"] = t("form.correct_value")
    if len(values["reason"]) < 3:
        errors.fields["reason"] = t("form.reason")
    if not errors:
        change: str | bool = values["value"]
        try:
            await backend_of(request).call(
                "otp",
                "PATCH",
                f"/master/employees/{quote(values['employee_id'])}",
                who.token,
                json={
                    "changes": {values["field"]: change},
                    "reason": values["reason"],
                    "certificate_id": certificate_id,
                },
            )
        except BackendError as err:
            if err.outage:
                return outage_page(request)
            errors = refusal(request, err)
            if err.code == "invalid_request":
                errors = FormErrors(general=list(errors.fields.values()))
        else:
            return RedirectResponse(f"/desk/corrections?done={quote(values['employee_id'])}", status_code=303)
    return await _corrections_page(request, who, errors=errors, values=values, for_id=certificate_id, code=422)


# ---- the calendar ----------------------------------------------------------------------------------------------


@router.get("/desk/calendar")
async def calendar(request: Request, saved: str = "") -> Response:
    who = await need_officer(request, ADMINISTRATOR)
    if not isinstance(who, Visitor):
        return who
    return await _calendar_page(request, who, saved=saved)


async def _calendar_page(
    request: Request,
    who: Visitor,
    saved: str = "",
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    try:
        versions = await backend_of(request).json("applications", "GET", "/calendar/versions")
    except BackendError as err:
        return backend_failure(request, err)
    return _desk(
        request,
        who,
        "calendar",
        {
            "versions": list(reversed(versions)),
            "steps": STEPS,
            "saved": saved,
            "errors": errors or FormErrors(),
            "values": values or {},
        },
        code,
    )


@router.post("/desk/calendar")
async def change_deadline(request: Request) -> Response:
    who = await need_officer(request, ADMINISTRATOR)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("step", "new_deadline", "reason")}
    t = i18n.translator(i18n.language_of(request))
    errors = FormErrors()
    deadline = None
    try:
        deadline = datetime.fromisoformat(values["new_deadline"])
    except ValueError:
        errors.fields["new_deadline"] = t("form.date_and_time")
    if values["step"] not in STEPS:
        errors.fields["step"] = t("form.step")
    if len(values["reason"]) < 5:
        errors.fields["reason"] = t("form.reason_5")
    if not errors and deadline is not None:
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=IST)  # the form's time is India Standard Time, as the page says
        try:
            version = await backend_of(request).json(
                "applications",
                "POST",
                "/calendar/changes",
                who.token,
                json={"step": values["step"], "new_deadline": deadline.isoformat(), "reason": values["reason"]},
            )
        except BackendError as err:
            if err.outage:
                return outage_page(request)
            errors = refusal(
                request,
                err,
                {
                    "deadline_in_past": "new_deadline",
                    "deadline_before_earlier_step": "new_deadline",
                    "deadline_after_later_step": "new_deadline",
                },
            )
        else:
            return RedirectResponse(f"/desk/calendar?saved={version['version']}", status_code=303)
    return await _calendar_page(request, who, errors=errors, values=values, code=422)


# ---- paper orders -----------------------------------------------------------------------------------------------


@router.get("/desk/paper-orders")
async def paper_orders(request: Request, done: str = "") -> Response:
    who = await need_officer(request, HOD, ADMINISTRATOR)
    if not isinstance(who, Visitor):
        return who
    return _desk(request, who, "paper_orders", {"done": done})


@router.post("/desk/paper-orders")
async def register_paper_order(request: Request) -> Response:
    who = await need_officer(request, HOD, ADMINISTRATOR)
    if not isinstance(who, Visitor):
        return who
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("employee_id", "department", "reference", "issued_on")}
    if who.principal is not None and who.principal.scope.get("department"):
        values["department"] = who.principal.scope["department"]
    try:
        done = await backend_of(request).json("orders", "POST", "/orders/physical", who.token, json=values)
    except BackendError as err:
        if err.outage:
            return outage_page(request)
        errors = refusal(request, err)
        return _desk(request, who, "paper_orders", {"values": values, "errors": errors}, err.status)
    return RedirectResponse(
        f"/desk/paper-orders?done={quote(done['employee_id'])}:{quote(done['status'])}", status_code=303
    )


# ---- accountability ---------------------------------------------------------------------------------------------


@router.get("/desk/reports")
async def reports(request: Request, by: str = "department") -> Response:
    who = await need_officer(request, ADMINISTRATOR, ADMIN_SECRETARY)
    if not isinstance(who, Visitor):
        return who
    if by not in REPORT_GROUPS:
        by = "department"
    backend = backend_of(request)
    try:
        rows = await backend.json(
            "verification", "GET", "/verification/reports/accountability", who.token, params={"group_by": by}
        )
        stages = await backend.json("orders", "GET", "/reports/stages", who.token)
    except BackendError as err:
        return backend_failure(request, err)
    t = i18n.translator(i18n.language_of(request))
    chart = charts.grouped_bars(
        [r["key"] for r in rows][:20],
        [(t("rep.pending"), [r["pending"] for r in rows][:20]), (t("rep.overdue"), [r["overdue"] for r in rows][:20])],
        title=t("rep.chart"),
    )
    return _desk(
        request, who, "reports", {"rows": rows, "by": by, "groups": REPORT_GROUPS, "stages": stages, "chart": chart}
    )
