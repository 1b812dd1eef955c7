"""What every page shares: the templates with the visitor's language, who is signed in, the service's refusal
turned into words beside the field, and the page that says what happened when something goes wrong (never a
stack trace, never a blank page)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from services.common.auth import EMPLOYEE, Principal, decode_token
from services.common.errors import ApiError
from services.common.settings import PortalSettings

from . import cookies, i18n
from .backend import Backend, BackendError

log = logging.getLogger("seva.portal")
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["when"] = i18n.when
# GIGW: every page says when it was last updated; the portal's content changes with its release.
LAST_UPDATED = date.fromtimestamp(max(p.stat().st_mtime for p in (HERE / "templates").rglob("*.html")))


# What a form field or a document is called on the page (the DDO's remarks name them by their keys).
LABELS = {
    "department_code": "apply.department",
    "district": "apply.district",
    "post_code": "apply.post",
    "ddo_code": "apply.ddo",
    "date_of_joining": "apply.date_of_joining",
    "aadhaar_number": "apply.aadhaar",
    "pan": "apply.pan",
}


def label_of(t: Any, key: str) -> str:
    if key in LABELS:
        return str(t(LABELS[key]))
    if i18n.has(f"doc.{key}"):
        return str(t(f"doc.{key}"))
    return key.replace("_", " ")


@dataclass
class Visitor:
    """Who is looking at the page: anonymous, an employee, or an officer, with their token for the services."""

    principal: Principal | None = None
    token: str | None = None
    expires_at: int | None = None
    expired: bool = False

    @property
    def is_employee(self) -> bool:
        return self.principal is not None and self.principal.role == EMPLOYEE

    @property
    def is_officer(self) -> bool:
        return self.principal is not None and self.principal.role != EMPLOYEE


async def visitor(request: Request) -> Visitor:
    """Read once per request from the cookies; a token that no longer passes (expired, or not ours) counts as
    signed out, and the page says the session ended."""
    cached: Visitor | None = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    found = Visitor()
    for name in (cookies.OFFICER, cookies.EMPLOYEE):
        token = request.cookies.get(name)
        if not token:
            continue
        try:
            principal = await decode_token(token, request)
        except ApiError as exc:
            if exc.status == 503:
                raise BackendError(503, exc.code, exc.message) from None
            found.expired = True
            continue
        expires = request.cookies.get(cookies.EXPIRES, "")
        found = Visitor(principal, token, int(expires) if expires.isdigit() else None)
        break
    request.state.visitor = found
    return found


def settings_of(request: Request) -> PortalSettings:
    settings: PortalSettings = request.app.state.settings
    return settings


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


@dataclass
class FormErrors:
    """A refused form: the sentence for each field, and the general ones, in the visitor's language."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    @property
    def count(self) -> int:
        return len(self.fields) + len(self.general)


def service_sentence(lang: str, prefix: str, code: str, english: str, details: dict[str, Any] | None = None) -> str:
    """The catalogue's sentence for a service's code in the visitor's language, else the service's own. Where
    the service gave particulars (`details`, e.g. the tries left) and the catalogue has a sentence with them
    (`<key>.detailed`, with `{name}` for each), that one, so Hindi says as much as English."""
    key = f"{prefix}.{code}"
    if details and i18n.has(f"{key}.detailed"):
        hi, en = i18n.MESSAGES[f"{key}.detailed"]
        try:
            return (hi if lang == "hi" else en).format(**details)
        except (KeyError, IndexError, ValueError):
            pass  # the particulars the sentence names were not all given: the plain one
    if i18n.has(key):
        hi, en = i18n.MESSAGES[key]
        chosen = hi if lang == "hi" else en
        if chosen:
            return chosen
    return english


def refusal(request: Request, err: BackendError, field_of: dict[str, str] | None = None) -> FormErrors:
    """A service's refusal as form errors: the sentence goes beside the field its code names (or, for a request
    the service found invalid, beside each field it named), else at the top of the form."""
    lang = i18n.language_of(request)
    errors = FormErrors()
    if err.code == "invalid_request" and err.details.get("fields"):
        for problem in err.details["fields"]:
            name, _, text = str(problem).partition(": ")
            name = name.split(".")[-1]
            errors.fields[name] = text or str(problem)
        return errors
    sentence = service_sentence(lang, "error", err.code, err.message, err.details) or i18n.translator(lang)(
        "error.generic_do"
    )
    target = (field_of or {}).get(err.code)
    if target:
        errors.fields[target] = sentence
    else:
        errors.general.append(sentence)
    return errors


def lang_switch(request: Request, lang: str) -> str:
    """The language switch's link: the same page with everything on its address, in the other language (the
    receipt's number was dropped, and the receipt then failed)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "?" + urlencode([*kept, ("lang", "en" if lang == "hi" else "hi")])


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> Response:
    lang = i18n.language_of(request)
    settings = settings_of(request)
    who: Visitor = getattr(request.state, "visitor", None) or Visitor()
    t = i18n.translator(lang)
    ctx = {
        "lang": lang,
        "lang_switch": lang_switch(request, lang),
        "t": t,
        "label": lambda key: label_of(t, key),
        "named": lambda entry, key: i18n.named(entry, key, lang),
        "reason_of": lambda rule: i18n.rule_reason(rule, lang),
        "remark_of": lambda stored: i18n.remark_text(stored, lang),
        "remark_parts": i18n.remark_parts,
        "standard_remarks": i18n.STANDARD_REMARKS,
        "known": i18n.MESSAGES,
        "visitor": who,
        "last_updated": LAST_UPDATED,
        "path": request.url.path,
        "warn_before": settings.session_warning_seconds,
        "helpdesk": {
            "phone": settings.helpdesk_phone,
            "email": settings.helpdesk_email,
            "address": settings.helpdesk_address,
            "hours": settings.helpdesk_hours,
        },
        "session_end": i18n.when(datetime.fromtimestamp(who.expires_at, UTC), lang) if who.expires_at else "",
        "now": int(time.time()),
        "errors": FormErrors(),
        "values": {},
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    return response


def problem_page(request: Request, status: int, what: str, what_to_do: str, retry_after: int | None = None) -> Response:
    response = render(request, "error.html", {"what": what, "what_to_do": what_to_do}, status=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def outage_page(request: Request) -> Response:
    t = i18n.translator(i18n.language_of(request))
    return problem_page(
        request,
        503,
        t("error.temporarily_unavailable"),
        t("error.temporarily_unavailable_do"),
        retry_after=settings_of(request).retry_after_seconds,
    )


def sign_in_again(request: Request, to: str) -> Response:
    response = RedirectResponse(f"{to}?expired=1", status_code=303)
    cookies.clear_sessions(response)
    return response


async def need_employee(request: Request) -> Visitor | Response:
    who = await visitor(request)
    if not who.is_employee:
        return sign_in_again(request, "/login") if who.expired else RedirectResponse("/login", status_code=303)
    return who


async def need_officer(request: Request, *roles: str) -> Visitor | Response:
    who = await visitor(request)
    if not who.is_officer or who.principal is None:
        return sign_in_again(request, "/officer") if who.expired else RedirectResponse("/officer", status_code=303)
    if roles and who.principal.role not in roles:
        log.warning(
            "denied: %s (%s) opened %s %s", who.principal.subject, who.principal.role, request.method, request.url.path
        )
        t = i18n.translator(i18n.language_of(request))
        return problem_page(request, 403, t("error.forbidden"), t("error.forbidden_do"))
    return who


def backend_failure(request: Request, err: BackendError) -> Response:
    """A refusal that has no form to go back to (a page that only reads)."""
    t = i18n.translator(i18n.language_of(request))
    if err.outage:
        return outage_page(request)
    if err.code in ("session_expired", "invalid_token", "unauthenticated"):
        who = getattr(request.state, "visitor", None)
        return sign_in_again(request, "/officer" if who is not None and who.is_officer else "/login")
    if err.status == 403:
        return problem_page(request, 403, t("error.forbidden"), t("error.forbidden_do"))
    if err.status == 404:
        lang = i18n.language_of(request)
        return problem_page(
            request, 404, service_sentence(lang, "error", err.code, err.message), t("error.not_found_do")
        )
    lang = i18n.language_of(request)
    return problem_page(
        request, err.status, service_sentence(lang, "error", err.code, err.message), t("error.generic_do")
    )


# ---- Post/Redirect/Get --------------------------------------------------------------------------------------
# Every step's POST answers with a redirect to a GET page: Back, refresh and the language switch then repeat a
# GET, never a POST (Chrome's "Confirm Form Resubmission", a second OTP asked by a refresh). A refused form's
# answers and reasons go along sealed in a cookie for a few minutes, as their ingredients (a catalogue key, a
# service's code with its particulars), so the page words them in whichever language it is read in.

CARRY_SECONDS = 600
KEPT_ANSWER = 200  # a carried answer is cut here: longer than any field takes, so it is still refused as too long


@dataclass
class Carried:
    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)
    refused_status: int = 422

    @property
    def status(self) -> int:
        """The page's status: the refusal's own (a 429 stays a 429), 200 when nothing was refused."""
        return self.refused_status if self.errors else 200


def carry(
    request: Request,
    to: str,
    *,
    values: dict[str, str] | None = None,
    keys: dict[str, str] | None = None,
    refused: BackendError | None = None,
    field_of: dict[str, str] | None = None,
) -> Response:
    """Redirect to the GET page `to` with the form's answers and why it was refused: `keys` are the portal's own
    sentences by field ("" for the top of the form), `refused` a service's refusal placed by `field_of`."""
    settings = settings_of(request)
    kept: dict[str, Any] = {
        "to": urlsplit(to).path,
        "values": {k: str(v)[:KEPT_ANSWER] for k, v in (values or {}).items()},
        "keys": keys or {},
    }
    if refused is not None:
        details = {k: v for k, v in refused.details.items() if isinstance(v, str | int | float | list)}
        kept["refused"] = [refused.status, refused.code, refused.message[:300], details]
        kept["field_of"] = field_of or {}
    response = RedirectResponse(to, status_code=303)
    cookies.set_cookie(
        response, settings, cookies.CARRIED, cookies.seal(settings, kept, cookies.CARRIED), CARRY_SECONDS
    )
    return response


def carried(request: Request) -> Carried:
    """What the last refused POST handed to this page (nothing if it was handed to another page)."""
    kept = cookies.unseal(settings_of(request), request.cookies.get(cookies.CARRIED), cookies.CARRIED)
    if not kept or kept.get("to") != request.url.path:
        return Carried()
    t = i18n.translator(i18n.language_of(request))
    errors, refused_status = FormErrors(), 422
    if isinstance(kept.get("refused"), list) and len(kept["refused"]) == 4:
        status, code, message, details = kept["refused"]
        refused_status = int(status) if 400 <= int(status) < 500 else 422
        errors = refusal(request, BackendError(int(status), str(code), str(message), details), kept.get("field_of"))
    for name, key in (kept.get("keys") or {}).items():
        if not i18n.has(str(key)):
            continue
        if name:
            errors.fields[str(name)] = str(t(key))
        else:
            errors.general.append(str(t(key)))
    values = {str(k): str(v) for k, v in (kept.get("values") or {}).items()}
    return Carried(values, errors, refused_status)


def redirect_done(to: str, *forget: str) -> Response:
    """A step that went through: on to the next GET page, and what was carried for the step is forgotten."""
    response = RedirectResponse(to, status_code=303)
    for name in (cookies.CARRIED, *forget):
        response.delete_cookie(name, path="/")
    return response
