"""The portal's own rules, with the services' APIs faked at the HTTP boundary (httpx.MockTransport): a form
posted from another site is refused; every page carries its security headers and `lang`; a refused form keeps
what was typed and names the error beside the field, in the visitor's language; an outage is a page that says
so with Retry-After, never a stack trace; a wrong address is a page in words; the sign-in state cookie cannot
be forged; the portal refuses to start without its configuration outside dev."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from contract import REQUIRED_DOCUMENTS
from services.common.settings import ConfigurationError, PortalSettings, get_settings, use_settings
from services.portal import cookies
from services.portal.backend import Backend
from services.portal.main import create_app

ORIGIN = {"Origin": "http://testserver"}


def _recording(calls: list[httpx.Request], status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A backend that notes each request the portal makes and answers `status` with an empty object."""

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={})

    return answer


def _portal(handler) -> TestClient:
    app = create_app()
    app.state.backend = Backend(get_settings(), transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


def _refuse(status: int, code: str, message: str = "Refused for a reason the service gives."):
    return lambda request: httpx.Response(status, json={"code": code, "message": message})


def test_a_form_posted_from_another_site_is_refused_and_logged(caplog):
    calls: list[httpx.Request] = []
    client = _portal(_recording(calls, 202))
    for headers in ({}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}):
        r = client.post("/login", data={"mobile": "9876543210"}, headers=headers)
        assert r.status_code == 403 and "पोर्टल के पृष्ठ से नहीं भेजा गया" in r.text
    assert calls == [] and "denied: a POST to /login" in caplog.text
    assert client.post("/login", data={"mobile": "9876543210"}, headers=ORIGIN).status_code == 200
    assert len(calls) == 1


def test_every_page_carries_its_language_and_security_headers():
    client = _portal(lambda r: httpx.Response(200, json={}))
    r = client.get("/help")
    assert r.status_code == 200 and '<html lang="hi">' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    english = client.get("/help?lang=en")
    assert '<html lang="en">' in english.text and "seva_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/privacy").text  # the choice is kept


def test_a_refused_form_keeps_what_was_typed_with_the_reason_beside_the_field():
    client = _portal(_refuse(422, "invalid_mobile", "A mobile number has 10 digits."))
    r = client.post("/login", data={"mobile": "12345"}, headers=ORIGIN)
    assert r.status_code == 422
    assert 'value="12345"' in r.text and 'aria-invalid="true"' in r.text
    assert 'id="e-mobile"' in r.text and "मोबाइल नंबर 10 अंकों का हो" in r.text  # the catalogue's Hindi
    english = client.post("/login?lang=en", data={"mobile": "12345"}, headers=ORIGIN)
    assert "A mobile number has 10 digits." in english.text  # the service's own sentence in English


def test_an_unknown_code_from_a_service_is_shown_in_its_own_words_at_the_top():
    client = _portal(_refuse(429, "something_new", "Too many requests from this office; try again shortly."))
    r = client.post("/login?lang=en", data={"mobile": "9876543210"}, headers=ORIGIN)
    assert r.status_code == 429 and "Too many requests from this office" in r.text and 'role="alert"' in r.text


def test_an_outage_is_a_page_that_says_so_with_retry_after():
    def down(request):
        raise httpx.ConnectError("connection refused")

    client = _portal(down)
    r = client.post(
        "/why-no-otp", data={"family_id": "1234ABCD", "date_of_birth": "1990-01-01", "mobile": "9"}, headers=ORIGIN
    )
    assert r.status_code == 503 and 'value="1234ABCD"' in r.text  # what was typed is still there
    assert "सेवा अभी उपलब्ध नहीं है" in r.text


def test_a_wrong_address_and_a_wrong_step_are_pages_in_words():
    client = _portal(lambda r: httpx.Response(200, json={}))
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "यह पृष्ठ नहीं मिला" in r.text and "Traceback" not in r.text
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"  # not signed in
    r = client.get("/desk", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/officer"
    r = client.get("/me", cookies={cookies.EMPLOYEE: "not-a-token"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?expired=1"


def test_a_sign_in_that_comes_back_with_another_state_is_refused():
    client = _portal(lambda r: httpx.Response(200, json={}))
    settings = get_settings()
    assert isinstance(settings, PortalSettings)
    sealed = cookies.seal(settings, {"state": "mine", "nonce": "n", "verifier": "v" * 43, "at": 0})
    opened = cookies.unseal(settings, sealed)
    assert opened is not None and opened["state"] == "mine"
    assert cookies.unseal(settings, sealed[:-4] + "AAAA") is None  # tampered
    r = client.get("/officer/callback?code=x&state=theirs", cookies={cookies.SIGN_IN: sealed}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/officer?failed=1"


@pytest.fixture
def provider_at(monkeypatch):
    """The portal told of an identity provider at http://idp.test (faked at the HTTP boundary by each test)."""
    monkeypatch.setenv("SEVA_OIDC_ISSUER", "http://idp.test/realm")
    get_settings.cache_clear()
    yield "http://idp.test/realm"
    monkeypatch.delenv("SEVA_OIDC_ISSUER")
    get_settings.cache_clear()


def _provider(token_answer: httpx.Response, calls: list[Any]):
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "authorization_endpoint": "http://idp.test/realm/authorize",
                    "token_endpoint": "http://idp.test/realm/token",
                    "jwks_uri": "http://idp.test/realm/jwks",
                },
            )
        return token_answer

    return handle


def test_a_sign_in_that_comes_back_after_its_time_is_refused_before_the_code_is_used(provider_at):
    """The sign-in state's age was never checked: a state cookie kept (or stolen) for hours still worked."""
    import time

    from services.portal.officer import SIGN_IN_MAX_AGE

    calls: list[Any] = []
    client = _portal(_provider(httpx.Response(200, json={}), calls))
    settings = get_settings()
    assert isinstance(settings, PortalSettings)
    old = cookies.seal(settings, {"state": "s", "nonce": "n", "verifier": "v" * 43, "at": time.time() - 3600})
    r = client.get("/officer/callback?code=c&state=s", cookies={cookies.SIGN_IN: old}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/officer?failed=1"
    assert calls == []  # the code was never exchanged
    fresh = cookies.seal(
        settings, {"state": "s", "nonce": "n", "verifier": "v" * 43, "at": time.time() - SIGN_IN_MAX_AGE + 30}
    )
    client.get("/officer/callback?code=c&state=s", cookies={cookies.SIGN_IN: fresh}, follow_redirects=False)
    assert calls and calls[-1].endswith("/token")  # within its time it is exchanged


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"token_type": "Bearer"}),  # no access_token: a 500 page before
        httpx.Response(200, json={"access_token": "a.b.c", "token_type": "Bearer"}),  # no ID token
        httpx.Response(200, json=["access_token"]),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"access_token": "a.b.c", "id_token": "d.e.f", "expires_in": "soon"}),
    ],
)
def test_an_odd_answer_from_the_provider_is_a_refused_sign_in_not_a_500(provider_at, answer, caplog):
    import time

    client = _portal(_provider(answer, []))
    settings = get_settings()
    assert isinstance(settings, PortalSettings)
    sealed = cookies.seal(settings, {"state": "s", "nonce": "n", "verifier": "v" * 43, "at": time.time()})
    r = client.get("/officer/callback?code=c&state=s", cookies={cookies.SIGN_IN: sealed}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/officer?failed=1"
    assert "denied: the identity provider's token answer is not one" in caplog.text


def test_a_provider_that_fails_is_an_outage_page(provider_at):
    import time

    client = _portal(_provider(httpx.Response(502, text="bad gateway"), []))
    settings = get_settings()
    assert isinstance(settings, PortalSettings)
    sealed = cookies.seal(settings, {"state": "s", "nonce": "n", "verifier": "v" * 43, "at": time.time()})
    r = client.get("/officer/callback?code=c&state=s", cookies={cookies.SIGN_IN: sealed}, follow_redirects=False)
    assert r.status_code == 503 and "retry-after" in r.headers


def test_the_portal_refuses_to_start_without_its_configuration(monkeypatch):
    monkeypatch.setenv("SEVA_ENV", "production")
    use_settings(PortalSettings)
    with pytest.raises(ConfigurationError) as err:
        get_settings()
    for name in ("SEVA_PORTAL_COOKIE_KEY", "SEVA_PORTAL_PUBLIC_URL", "SEVA_OIDC_ISSUER"):
        assert name in str(err.value)
    monkeypatch.setenv("SEVA_ENV", "dev")
    get_settings.cache_clear()


def test_a_body_larger_than_one_document_is_refused_before_it_is_read():
    calls: list[httpx.Request] = []
    client = _portal(_recording(calls, 200))
    big = b"x" * (6 * 1024 * 1024)
    r = client.post("/login", content=big, headers={**ORIGIN, "content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "5 MB" in r.text and calls == []
    r = client.post(
        "/apply/documents/pan",
        content=big,
        headers={**ORIGIN, "content-type": "application/pdf"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/apply/documents#doc-pan" and calls == []


def test_a_document_over_the_limit_goes_back_to_its_place_with_the_reason_not_to_a_dead_end():
    """A file over 5 MB landed on an error page whose only button went home."""
    client = _employee_client(APPLICATION_LISTS)
    big = b"x" * (6 * 1024 * 1024)
    r = client.post("/apply/documents/pan", content=big, headers={**ORIGIN, "content-type": "application/pdf"})
    assert r.status_code == 413 and r.url.path == "/apply/documents"
    assert 'id="e-pan"' in r.text and "5 MB" in r.text and 'action="/apply/documents/pan"' in r.text


def test_why_no_otp_in_hindi_keeps_the_services_particulars_beside_the_translation():
    answer = {
        "causes": [
            {
                "code": "record_has_different_mobile",
                "message": "Your service record (found through your Family ID) has a different mobile, 97XXXXXX11.",
                "remedy": "Ask your DDO.",
            }
        ],
        "progress": {"data_owner": "HKRN", "certificate_issued_at": None, "corrected_at": None},
    }
    client = _portal(lambda r: httpx.Response(200, json=answer))
    form = {"family_id": "1234ABCD", "date_of_birth": "1990-01-01", "mobile": "9812345610"}
    r = client.post("/why-no-otp", data=form, headers=ORIGIN)
    assert r.status_code == 200
    assert "कोई दूसरा मोबाइल नंबर है" in r.text and "97XXXXXX11" in r.text and 'lang="en"' in r.text
    assert 'data-step="certificate"' in r.text


def test_an_employee_who_reported_before_the_close_is_told_until_when_registration_stays_open_for_them():
    calendar = {
        "season_id": "2025-26",
        "version": 2,
        "registration_open": "2025-12-25T00:00:00+05:30",
        "registration_close": "2026-02-20T23:59:59+05:30",
        "ddo_verification": "2026-02-28T23:59:59+05:30",
        "post_creation": "2026-03-31T23:59:59+05:30",
        "order_issue": "2026-04-30T23:59:59+05:30",
        "escalation_days": 7,
        "remedy_grace_days": 7.0,
    }
    progress = {"data_owner": "HKRN", "certificate_issued_at": "2026-02-19T10:00:00+05:30", "corrected_at": None}

    def service(progress: dict[str, Any]):
        answer = {"causes": [{"code": "record_has_different_mobile", "message": "m", "remedy": "r"}]}
        return lambda r: httpx.Response(
            200, json=calendar if r.url.path == "/calendar" else {**answer, "progress": progress}
        )

    form = {"family_id": "1234ABCD", "date_of_birth": "1990-01-01", "mobile": "9812345610"}
    reported = {**progress, "reported_at": "2026-02-18T09:00:00+05:30"}
    r = _portal(service(reported)).post("/why-no-otp?lang=en", data=form, headers=ORIGIN)
    assert "for 7 days after your record is corrected (at the latest until 28 Feb 2026" in r.text
    corrected = {**reported, "corrected_at": "2026-02-22T11:00:00+05:30"}
    r = _portal(service(corrected)).post("/why-no-otp?lang=en", data=form, headers=ORIGIN)
    assert "stay open for you until 28 Feb 2026, 23:59" in r.text  # 7 days after the 22nd, capped at DDO verification
    corrected = {**reported, "corrected_at": "2026-02-19T11:00:00+05:30"}
    r = _portal(service(corrected)).post("/why-no-otp", data=form, headers=ORIGIN)
    assert "आवेदन 26 फ़रवरी 2026, 11:00 तक खुला है" in r.text  # 7 days after the 19th, in Hindi
    late = {**progress, "reported_at": "2026-02-21T09:00:00+05:30"}
    r = _portal(service(late)).post("/why-no-otp?lang=en", data=form, headers=ORIGIN)
    assert "data-held" not in r.text  # reported after the close: nothing is held


def test_a_post_not_in_the_list_can_be_written_and_its_refusal_says_the_data_owners_were_told():
    from services.common.sessions import sign_session, signing_key
    from services.common.settings import dev_value

    token = sign_session(signing_key(dev_value("session_signing_key")), "EMP0000001", 600)
    lists = {
        "/master/departments": [{"code": "HEALTH", "name": "Health"}],
        "/master/districts": ["Hisar"],
        "/master/posts": [{"code": "DEO", "name": "Data Entry Operator"}],
        "/master/ddos": [{"ddo_code": "DDO-H-1", "department_code": "HEALTH", "district": "Hisar", "office_name": "O"}],
        "/applications/mine": {"status": None},
        "/master/me": {
            "family_id": "1234ABCD",
            "family_id_details": None,
            "service_record": {"name": "A", "father_name": "B", "date_of_birth": "1985-01-01"},
            "mismatches": [],
        },
        "/applications/documents": APPLICATION_LISTS["/applications/documents"],
        "/applications/identity": APPLICATION_LISTS["/applications/identity"],
    }
    posted = []

    def service(r: httpx.Request) -> httpx.Response:
        if r.method == "POST" and r.url.path == "/applications":
            posted.append(r.read())
            return httpx.Response(
                422,
                json={
                    "code": "unknown_post",
                    "message": "Post 'X-RAY-TECHNICIAN' is not in the list. The data owners have been told.",
                },
            )
        return httpx.Response(200, json=lists.get(r.url.path, {}))

    client = _portal(service)
    client.cookies.set(cookies.EMPLOYEE, token)
    form = {
        "department_code": "HEALTH",
        "district": "Hisar",
        "post_code": "",
        "post_code_other": "X-ray technician",
        "ddo_code": "DDO-H-1",
        "date_of_joining": "2015-04-01",
    }
    r = client.post("/apply/review", data=form, headers=ORIGIN)
    assert r.status_code == 200, r.text[:500]
    assert 'value="X-RAY-TECHNICIAN"' in r.text  # carried to the submission as the post's code
    r = client.post("/apply/submit", data={**form, "post_code": "X-RAY-TECHNICIAN", "confirm": "yes"}, headers=ORIGIN)
    assert posted and b'"post_code":"X-RAY-TECHNICIAN"' in posted[0].replace(b" ", b"")
    assert "डेटा स्वामियों को सूचित कर दिया गया है" in r.text


APPLICATION_LISTS: dict[str, Any] = {
    "/master/departments": [{"code": "HEALTH", "name": "Health"}],
    "/master/district-names": [{"name": "Hisar", "name_hi": "हिसार"}],
    "/master/posts": [{"code": "DEO", "name": "Data Entry Operator"}],
    "/master/ddos": [{"ddo_code": "DDO-H-1", "department_code": "HEALTH", "district": "Hisar", "office_name": "O"}],
    "/applications/mine": {"status": None, "stage": "awaiting_application"},
    "/master/me": {
        "family_id": "1234ABCD",
        "family_id_details": None,
        "service_record": {"name": "A", "father_name": "B", "date_of_birth": "1985-01-01"},
        "mismatches": [],
    },
    "/applications/documents": [
        {"kind": kind, "version": 1, "media_type": "application/pdf", "size_bytes": 2048} for kind in REQUIRED_DOCUMENTS
    ],
    "/applications/identity": {"aadhaar": "XXXX XXXX 4321", "pan": "ABCPE1234F"},
}
APPLICATION_FORM = {
    "department_code": "HEALTH",
    "district": "Hisar",
    "post_code": "DEO",
    "ddo_code": "DDO-H-1",
    "date_of_joining": "2015-04-01",
}


def test_every_step_of_the_application_is_a_page_that_back_refresh_and_the_switch_can_repeat():
    """The review was the answer to POST /apply/review: Back from the receipt, a refresh or the switch gave
    "Confirm Form Resubmission" or "Something went wrong"."""
    posted: list[httpx.Request] = []
    client = _employee_client(APPLICATION_LISTS, posted)
    r = client.post("/apply/review", data=APPLICATION_FORM, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/apply/review"
    for again in ("/apply/review", "/apply/review?lang=en", "/apply/review?lang=hi"):
        page = client.get(again)
        assert page.status_code == 200 and 'action="/apply/submit"' in page.text and "2015-04-01" in page.text
    unconfirmed = client.post("/apply/submit", data=APPLICATION_FORM, headers=ORIGIN, follow_redirects=False)
    assert unconfirmed.headers["location"] == "/apply/review" and posted == []
    assert client.get("/apply/review?lang=en").status_code == 422  # the reason stays, in either language
    empty = client.post("/apply/review", data={**APPLICATION_FORM, "district": ""}, headers=ORIGIN)
    assert str(empty.url).endswith("/apply/form") and empty.status_code == 422
    assert client.get("/apply/form?lang=en").status_code == 422  # refreshed, switched: still the same answers
    assert (
        _employee_client(APPLICATION_LISTS).get("/apply/review", follow_redirects=False).headers["location"]
        == "/apply/form"
    )  # nothing to review in this browser: the form


def test_the_review_shows_every_answer_with_its_own_change_link_and_cannot_be_submitted_with_something_missing():
    """The review left out Aadhaar and PAN, had one "change" button, and could be submitted with documents missing
    (the refusal came after)."""
    client = _employee_client(APPLICATION_LISTS)
    client.post("/apply/review", data=APPLICATION_FORM, headers=ORIGIN)
    page = client.get("/apply/review").text
    assert "XXXX XXXX 4321" in page and "ABCPE1234F" in page and "1 अप्रैल 2015" in page
    for target in ("/apply#f-aadhaar_number", "/apply#f-pan", "#f-district", "#f-ddo_code", "#f-date_of_joining"):
        assert target in html.unescape(page), target
    for kind in REQUIRED_DOCUMENTS:
        assert f'href="/apply/documents#doc-{kind}"' in page
    assert 'action="/apply/submit"' in page
    missing = _employee_client(
        {
            **APPLICATION_LISTS,
            "/applications/documents": APPLICATION_LISTS["/applications/documents"][1:],
            "/applications/identity": httpx.Response(404, json={"code": "identity_missing", "message": "not given"}),
        }
    )
    missing.post("/apply/review", data=APPLICATION_FORM, headers=ORIGIN)
    page = missing.get("/apply/review").text
    assert 'action="/apply/submit"' not in page and "आवेदन अभी जमा नहीं हो सकता" in page
    assert "आधार संख्या" in page.split("आवेदन अभी जमा नहीं हो सकता")[1]


def test_putting_the_district_back_brings_back_the_ddo_chosen():
    client = _employee_client(APPLICATION_LISTS)
    back = client.get("/apply/ddos?department_code=HEALTH&district=Hisar&ddo_code=&ddo_wanted=DDO-H-1").text
    assert re.search(r'value="DDO-H-1"\s*selected', back), back


def test_a_refused_upload_and_identity_come_back_as_pages_not_post_answers():
    client = _employee_client(
        {
            **APPLICATION_LISTS,
            "/applications/identity": httpx.Response(
                422, json={"code": "invalid_pan", "message": "A PAN is five letters, four digits, a letter."}
            ),
        }
    )
    r = client.post(
        "/apply/identity", data={"aadhaar_number": "98765", "pan": "X"}, headers=ORIGIN, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/apply"
    page = client.get("/apply")
    assert page.status_code == 422 and 'id="e-pan"' in page.text and "98765" not in page.text
    r = client.post("/apply/documents/pan", files={"document": ("", b"")}, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/apply/documents")
    assert client.get("/apply/documents").status_code == 422


def test_the_sms_question_about_a_number_is_one_tap_and_a_bad_link_is_a_page_in_words():
    """Before the season, the link in the SMS: the masked number and two buttons; the answer goes to the OTP
    service as given; a malformed link never reaches it."""
    cid, code = "0b9e8c1e-1111-4222-8333-944455556666", "ab12cd34ef56"
    calls: list[httpx.Request] = []

    def otp(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = None if request.method == "GET" else __import__("json").loads(request.content)["answer"]
        return httpx.Response(200, json={"masked_mobile": "98XXXXXX10", "answer": answer})

    client = _portal(otp)
    page = client.get(f"/m/{cid}/{code}")
    assert page.status_code == 200 and "98XXXXXX10" in page.text and 'value="not_mine"' in page.text
    assert str(calls[-1].url).endswith(f"/otp/mobile-confirmations/{cid}/{code}")
    done = client.post(f"/m/{cid}/{code}?lang=en", data={"answer": "not_mine"}, headers=ORIGIN)
    assert done.status_code == 200 and 'data-answer="not_mine"' in done.text and "need do nothing more" in done.text
    assert calls[-1].method == "POST" and b'"not_mine"' in calls[-1].content
    # every call carries the browser's address, for the services' audit rows and limits (not the portal's own)
    assert all(c.headers.get("x-forwarded-for") == "testclient" for c in calls)
    seen = len(calls)
    bad = client.get(f"/m/not-a-uuid/{code}?lang=hi")
    assert bad.status_code == 404 and "यह लिंक मान्य नहीं है" in bad.text and len(calls) == seen
    refused = _portal(_refuse(409, "already_answered", "This number was already answered for."))
    r = refused.post(f"/m/{cid}/{code}", data={"answer": "mine"}, headers=ORIGIN)
    assert r.status_code == 409 and "पहले ही उत्तर दिया जा चुका है" in r.text


def test_a_chunked_body_that_declares_no_length_is_cut_off_at_the_limit():
    """The 413 worked only when the body declared its length: a chunked upload was spooled whole first."""
    calls: list[httpx.Request] = []
    client = _portal(_recording(calls, 200))

    def chunks():
        for _ in range(12):  # 12 MB in 1 MB pieces, no Content-Length
            yield b"x" * (1024 * 1024)

    headers = {**ORIGIN, "content-type": "multipart/form-data; boundary=b"}
    r = client.post("/apply/documents/pan", content=chunks(), headers=headers, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/apply/documents#doc-pan" and calls == []
    r = client.post("/why-no-otp", content=chunks(), headers=headers)
    assert r.status_code == 413 and "5 MB" in r.text and calls == []


def _employee_client(answers: dict[str, Any], posted: list[Any] | None = None) -> TestClient:
    from services.common.sessions import sign_session, signing_key
    from services.common.settings import dev_value

    def service(r: httpx.Request) -> httpx.Response:
        if posted is not None and r.method != "GET":
            posted.append(r)
        answer = answers.get(r.url.path, {})
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    client = _portal(service)
    client.cookies.set(cookies.EMPLOYEE, sign_session(signing_key(dev_value("session_signing_key")), "EMP0000001", 600))
    return client


def test_the_language_switch_keeps_the_step_and_what_is_on_it():
    """The switch on the receipt dropped its `no=`: the portal asked for GET /applications/ and answered 500."""
    status = {
        "application_no": "A-1",
        "stage": "awaiting_ddo_verification",
        "submitted_at": "2026-01-10T05:00:00+00:00",
        "next_deadline": "2026-03-01T18:29:59+00:00",
    }
    client = _employee_client({"/applications/A-1": status})
    r = client.get("/apply/receipt?resubmitted=0&no=A-1")
    assert r.status_code == 200
    switch = re.search(r'class="lang-switch" href="([^"]+)"', r.text)
    assert switch is not None
    href = html.unescape(switch.group(1))
    assert "no=A-1" in href and "lang=en" in href and "resubmitted=0" in href
    english = client.get(f"/apply/receipt{href}")
    assert english.status_code == 200 and '<html lang="en">' in english.text


def test_a_receipt_without_its_number_goes_to_the_dashboard_and_an_empty_answer_is_no_500():
    client = _employee_client({"/applications/": httpx.Response(200, content=b"")})
    r = client.get("/apply/receipt", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me"
    odd = _employee_client({"/applications/A-1": httpx.Response(200, content=b"")})
    assert odd.get("/apply/receipt?no=A-1").status_code == 503  # a service's unreadable answer: an outage page


@pytest.mark.parametrize("field", ["department_code", "district", "post_code", "ddo_code", "date_of_joining"])
def test_a_form_value_of_any_length_is_answered_in_words_never_a_500(field):
    """A value over 65,536 characters made the portal build a URL httpx refuses (InvalidURL): a 500."""
    form = {
        "department_code": "HEALTH",
        "district": "Hisar",
        "post_code": "DEO",
        "ddo_code": "DDO-H-1",
        "date_of_joining": "2015-04-01",
        field: "x" * 70_000,
    }
    posted: list[Any] = []
    client = _employee_client({"/applications/mine": {"status": None}}, posted)
    for path in ("/apply/review", "/apply/submit"):
        r = client.post(path, data={**form, "confirm": "yes"}, headers=ORIGIN)
        assert r.status_code == 422, (path, r.status_code)
        assert 'aria-invalid="true"' in r.text
    assert client.get("/apply/ddos", params={"department_code": "x" * 5_000, "district": "Hisar"}).status_code < 500
    assert posted == []  # nothing binding was sent


def _otp_service(verify: httpx.Response) -> tuple[TestClient, list[str]]:
    """An OTP service that sends every code asked for and answers each verify with `verify`."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/otp/request":
            return httpx.Response(202, json={"sent": True})
        return verify

    return _portal(answer), asked


def test_a_wrong_otp_says_how_many_tries_are_left_in_hindi_too():
    """English said "4 more tries"; Hindi gave no count."""
    refusal = httpx.Response(
        400,
        json={
            "code": "otp_invalid",
            "message": "The code is wrong. You have 4 more tries.",
            "details": {"tries_left": 4},
        },
    )
    client, _ = _otp_service(refusal)
    client.post("/login", data={"mobile": "9876543210"}, headers=ORIGIN)
    r = client.post("/login/verify", data={"mobile": "9876543210", "code": "000000"}, headers=ORIGIN)
    assert r.status_code == 400 and "4 प्रयास और बचे हैं" in r.text
    assert str(r.url).endswith("/login/code")
    english = client.get("/login/code?lang=en")  # the language switch on the refused page keeps the reason
    assert english.status_code == 400 and "4 more tries" in english.text


def test_every_step_of_sign_in_is_a_page_that_back_refresh_and_the_switch_can_repeat():
    """The code page was the answer to POST /login: the switch opened GET /login/verify ("Something went
    wrong"), and a refresh asked for a second OTP, then refused "wait a minute"."""
    client, asked = _otp_service(httpx.Response(400, json={"code": "otp_invalid", "message": "wrong"}))
    r = client.post("/login", data={"mobile": "9876543210"}, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login/code")
    assert "9876543210" not in r.headers["location"] and "9876543210" not in r.headers.get("set-cookie", "")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "9876543210" in page.text and 'action="/login/verify"' in page.text
    for again in (r.headers["location"], "/login/code?lang=en", "/login/code?lang=hi"):  # refresh, the switch
        assert client.get(again).status_code == 200
    assert asked == ["/otp/request"]  # one OTP, however often the code page is opened
    wrong = client.post("/login/verify", data={"code": "12"}, headers=ORIGIN, follow_redirects=False)
    assert wrong.status_code == 303 and wrong.headers["location"] == "/login/code"
    assert client.get("/login/code?lang=en").status_code == 422
    assert asked == ["/otp/request"]  # a code of two digits is not sent to be checked
    fresh = _portal(lambda request: httpx.Response(500))
    assert fresh.get("/login/code", follow_redirects=False).headers["location"] == "/login"  # no OTP was asked


def test_a_refused_sign_in_is_not_shown_again_after_the_next_one_goes_through():
    client, _ = _otp_service(httpx.Response(400, json={"code": "otp_invalid", "message": "wrong"}))
    client.post("/login", data={"mobile": "9876543210"}, headers=ORIGIN)
    client.post("/login/verify", data={"code": "000000"}, headers=ORIGIN)
    assert client.get("/login/code").status_code == 400
    client.post("/login", data={"mobile": "9876543210"}, headers=ORIGIN)  # asked again: the old refusal is gone
    assert client.get("/login/code").status_code == 200


def test_a_carried_refusal_cannot_be_forged_nor_moved_to_another_cookie():
    client, _ = _otp_service(httpx.Response(400, json={"code": "otp_invalid", "message": "wrong"}))
    client.post("/login", data={"mobile": "9876543210"}, headers=ORIGIN)
    pending = client.cookies.get(cookies.PENDING)
    client.cookies.set(cookies.CARRIED, pending or "")  # a sealed value from another cookie does not open
    assert client.get("/login/code").status_code == 200
    client.cookies.set(cookies.PENDING, "not-sealed")
    assert client.get("/login/code", follow_redirects=False).headers["location"] == "/login"


def test_why_no_otp_says_the_masked_numbers_in_hindi():
    """The masked numbers were only in an English sentence beside the Hindi one."""
    answer = {
        "causes": [
            {
                "code": "record_has_different_mobile",
                "message": "Your service record with HKRN has a different mobile, 97XXXXXX11; not to 98XXXXXX10.",
                "remedy": "Ask your DDO.",
                "details": {"owner": "HKRN", "on_record": "97XXXXXX11", "given": "98XXXXXX10"},
            }
        ],
        "progress": None,
    }
    client = _portal(lambda r: httpx.Response(200, json=answer))
    form = {"family_id": "1234ABCD", "date_of_birth": "1990-01-01", "mobile": "9812345610"}
    r = client.post("/why-no-otp", data=form, headers=ORIGIN)
    assert r.status_code == 200
    assert "दूसरा मोबाइल नंबर 97XXXXXX11 है" in r.text and "आपके दिए नंबर 98XXXXXX10 पर नहीं" in r.text
    assert 'class="muted" lang="en"' not in r.text  # no English sentence beside it
    english = client.post("/why-no-otp?lang=en", data=form, headers=ORIGIN)
    assert "has a different mobile, 97XXXXXX11" in english.text


def test_the_receipt_is_worded_from_the_submission_while_the_case_has_not_heard_of_it():
    """Right after "received", the receipt said "awaiting your application" with the old registration close."""
    status = {
        "application_no": "A-1",
        "stage": "awaiting_application",
        "submitted_at": "2026-01-10T05:00:00+00:00",
        "next_deadline": "2026-01-31T18:29:59+00:00",
    }
    calendar = {
        "season_id": "2025-26",
        "version": 1,
        "registration_open": "2025-12-25T00:00:00+05:30",
        "registration_close": "2026-01-31T23:59:59+05:30",
        "ddo_verification": "2026-02-28T23:59:59+05:30",
        "post_creation": "2026-03-31T23:59:59+05:30",
        "order_issue": "2026-04-30T23:59:59+05:30",
    }
    client = _employee_client({"/applications/A-1": status, "/calendar": calendar})
    r = client.get("/apply/receipt?no=A-1")
    assert r.status_code == 200
    assert "आवेदन जमा हो गया" in r.text and "28 फ़रवरी 2026" in r.text
    assert "आपके आवेदन की प्रतीक्षा" not in r.text and "31 जनवरी 2026" not in r.text


@pytest.mark.parametrize(("role", "first"), [("hod", "approvals"), ("ddo", "queue"), ("finance", "posts")])
def test_each_officer_opens_on_their_own_work(monkeypatch, role, first):
    """The HoD landed on an empty verification queue (only escalated cases reach it) instead of approvals."""
    from services.common.auth import Principal
    from services.portal import web

    async def officer(token, request):
        return Principal("OFF-1", role, {"department": "HEALTH", "ddo_code": "DDO-H-1"})

    monkeypatch.setattr(web, "decode_token", officer)
    client = _portal(lambda r: httpx.Response(200, json=[]))
    client.cookies.set(cookies.OFFICER, "a-token")
    r = client.get("/desk", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/desk/{first}"


def test_the_approvals_result_is_titled_as_approvals(monkeypatch):
    """The HoD's approval results were titled "Result of the bulk verification"."""
    from services.common.auth import Principal
    from services.portal import web

    async def hod(token, request):
        return Principal("HOD-HEALTH", "hod", {"department": "HEALTH"})

    monkeypatch.setattr(web, "decode_token", hod)

    def service(r: httpx.Request) -> httpx.Response:
        if r.url.path == "/orders/approvals":
            return httpx.Response(200, json=[{"application_no": "A-1", "ok": True, "message": ""}])
        return httpx.Response(200, json=[])

    client = _portal(service)
    client.cookies.set(cookies.OFFICER, "a-token")
    r = client.post("/desk/approvals", data={"application_no": "A-1"}, headers=ORIGIN)
    assert r.status_code == 200 and "एक साथ स्वीकृति का परिणाम" in r.text and "सत्यापन का परिणाम" not in r.text


def test_finance_sees_the_posts_it_created_not_a_batch_uuid_nor_a_stray_box(monkeypatch):
    from services.common.auth import Principal
    from services.portal import web

    async def finance(token, request):
        return Principal("FIN-1", "finance", {})

    monkeypatch.setattr(web, "decode_token", finance)
    awaiting = [
        {
            "application_no": "A-1",
            "employee_id": "EMP0000001",
            "department": "HEALTH",
            "post_code": "DEO",
            "district": "Hisar",
            "post_due_at": "2026-03-31T18:29:59+00:00",
        }
    ]

    def service(r: httpx.Request) -> httpx.Response:
        if r.method == "POST" and r.url.path == "/posts":
            batch = {
                "batch_id": "3f1c2a9e-0000-4000-8000-000000000001",
                "posts": [{"application_no": "A-1", "post_id": "SNP-HEALTH-000001"}],
            }
            return httpx.Response(200, json=batch)
        return httpx.Response(200, json=awaiting if r.url.path == "/posts/awaiting" else [])

    client = _portal(service)
    client.cookies.set(cookies.OFFICER, "a-token")
    r = client.post("/desk/posts", data={"application_no": "A-1"}, headers=ORIGIN)
    assert r.status_code == 200 and "SNP-HEALTH-000001" in r.text and "3f1c2a9e" not in r.text
    empty = _portal(lambda r: httpx.Response(200, json=[]))
    empty.cookies.set(cookies.OFFICER, "a-token")
    page = empty.get("/desk/posts")
    assert page.status_code == 200 and "<textarea" not in page.text and "data-empty" in page.text


def test_a_document_may_be_framed_by_the_review_page_only(monkeypatch):
    """Every response carried frame-ancestors 'none', so the review page's own <object> of a document was
    refused and the DDO saw a link per document."""
    from services.common.auth import Principal
    from services.portal import web

    async def ddo(token, request):
        return Principal("OFF-DDO-H-1", "ddo", {"ddo_code": "DDO-H-1"})

    monkeypatch.setattr(web, "decode_token", ddo)
    client = _portal(
        lambda r: httpx.Response(200, content=b"%PDF-1.4 ...", headers={"content-type": "application/pdf"})
    )
    client.cookies.set(cookies.OFFICER, "a-token")
    r = client.get("/desk/applications/A-1/documents/family_id")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "'none'" in csp.split("frame-ancestors")[0]  # nothing else allowed
    assert "frame-ancestors 'none'" in client.get("/help").headers["content-security-policy"]


def test_the_review_page_names_the_codes_on_the_application(monkeypatch):
    """The DDO's review showed codes (SCHOOLEDU, PUMPOP) instead of names."""
    from services.common.auth import Principal
    from services.portal import web

    async def ddo(token, request):
        return Principal("OFF-DDO-S-1", "ddo", {"ddo_code": "DDO-S-1"})

    monkeypatch.setattr(web, "decode_token", ddo)
    form = {
        "department_code": "SCHOOLEDU",
        "district": "Hisar",
        "post_code": "PUMPOP",
        "ddo_code": "DDO-S-1",
        "date_of_joining": "2015-04-01",
    }
    answers = {
        "/review/applications/A-1": {
            "application_no": "A-1",
            "employee_id": "EMP0000001",
            "status": "submitted",
            "form": form,
            "documents": [],
            "submissions": [],
            "eligibility": None,
        },
        "/master/departments": [{"code": "SCHOOLEDU", "name": "School Education"}],
        "/master/posts": [{"code": "PUMPOP", "name": "Pump Operator"}],
        "/master/ddos": [
            {"ddo_code": "DDO-S-1", "department_code": "SCHOOLEDU", "district": "Hisar", "office_name": "DEO Hisar"}
        ],
        "/otp/diagnoses": [],
    }
    client = _portal(lambda r: httpx.Response(200, json=answers.get(r.url.path, {})))
    client.cookies.set(cookies.OFFICER, "a-token")
    r = client.get("/desk/applications/A-1")
    assert r.status_code == 200, r.text[:300]
    assert "School Education" in r.text and "Pump Operator" in r.text and "DEO Hisar" in r.text


def test_a_verification_is_confirmed_before_it_is_sent(monkeypatch):
    """'Verify' and bulk verify were one click with no confirmation."""
    from services.common.auth import Principal
    from services.portal import web

    async def ddo(token, request):
        return Principal("OFF-DDO-S-1", "ddo", {"ddo_code": "DDO-S-1"})

    monkeypatch.setattr(web, "decode_token", ddo)
    sent: list[str] = []
    review: dict[str, Any] = {
        "application_no": "A-1",
        "employee_id": "EMP0000001",
        "status": "submitted",
        "form": {},
        "documents": [],
        "submissions": [],
        "eligibility": None,
    }

    def service(r: httpx.Request) -> httpx.Response:
        if r.method == "POST":
            sent.append(r.url.path)
            if r.url.path.endswith("/bulk"):
                return httpx.Response(200, json=[{"application_no": "A-1", "ok": True, "message": ""}])
            return httpx.Response(200, json={"application_no": "A-1", "status": "verified"})
        return httpx.Response(200, json=review if r.url.path == "/review/applications/A-1" else [])

    client = _portal(service)
    client.cookies.set(cookies.OFFICER, "a-token")
    r = client.post("/desk/applications/A-1/decision", data={"decision": "verified"}, headers=ORIGIN)
    assert r.status_code == 422 and 'id="e-confirm"' in r.text and sent == []
    bulk = client.post("/desk/queue/verify", data={"application_no": "A-1"}, headers=ORIGIN)
    assert bulk.status_code == 200 and sent == []
    done = client.post(
        "/desk/applications/A-1/decision",
        data={"decision": "verified", "confirm": "yes"},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303 and sent == ["/verification/applications/A-1/decision"]
    client.post("/desk/queue/verify", data={"application_no": "A-1", "confirm": "yes"}, headers=ORIGIN)
    assert sent[-1] == "/verification/decisions/bulk"


def test_the_queue_is_paged_with_its_true_total_and_no_filter_of_every_department(monkeypatch):
    """The queue stopped at 50 rows with no paging, its count was the page's, and a DDO of one department got
    a filter of all 20."""
    from services.common.auth import Principal
    from services.portal import web

    async def ddo(token, request):
        return Principal("OFF-DDO-S-1", "ddo", {"ddo_code": "DDO-S-1"})

    monkeypatch.setattr(web, "decode_token", ddo)
    asked: list[dict[str, Any]] = []

    def service(r: httpx.Request) -> httpx.Response:
        if r.url.path == "/verification/queue":
            asked.append(dict(r.url.params))
            offset = int(r.url.params.get("offset", 0))
            items = [
                {
                    "application_no": f"A-{n}",
                    "employee_id": f"EMP{n:07d}",
                    "department": "SCHOOLEDU",
                    "district": "Hisar",
                    "due_at": "2030-01-01T00:00:00+00:00",
                    "status": "pending",
                    "escalation_level": 0,
                    "round": 1,
                    "superannuation_on": None,
                    "take_first": False,
                }
                for n in range(offset, min(offset + 50, 120))
            ]
            return httpx.Response(200, json=items, headers={"X-Total-Count": "120"})
        return httpx.Response(200, json=[{"code": f"D{i}", "name": f"Department {i}"} for i in range(20)])

    client = _portal(service)
    client.cookies.set(cookies.OFFICER, "a-token")
    first = client.get("/desk/queue")
    assert first.status_code == 200 and "कुल 120 आवेदनों में से 1–50" in first.text
    assert 'id="f-department"' not in first.text and "page=2" in first.text
    second = client.get("/desk/queue?page=2")
    assert "51–100" in second.text and asked[-1]["offset"] == "50" and "A-50" in second.text
    last = client.get("/desk/queue?page=3")
    assert "101–120" in last.text and "page=4" not in last.text


def test_the_contact_page_names_the_helpdesk_from_configuration(monkeypatch):
    """The contact page had no helpline, phone, e-mail, address or hours."""
    client = _portal(lambda r: httpx.Response(200, json={}))
    r = client.get("/contact")
    assert r.status_code == 200
    assert 'href="tel:0000-000-000(localstack)"' in r.text and "helpdesk@example.invalid" in r.text
    assert "सोमवार से शुक्रवार" in r.text


def test_the_portal_refuses_to_start_with_the_helpdesk_left_as_a_placeholder(monkeypatch):
    from services.common.settings import PortalSettings

    with pytest.raises(ValueError, match="SEVA_HELPDESK_PHONE holds a placeholder"):
        PortalSettings(
            env="production",
            session_public_key="x",
            oidc_issuer="https://sso.example",
            portal_cookie_key="k",
            portal_public_url="https://portal.example",
            helpdesk_phone="REPLACE-WITH-THE-HELPLINE-NUMBER",
            helpdesk_email="help@example.in",
            helpdesk_address="Chandigarh",
            helpdesk_hours="9 to 5",
        )


def _ineligible_case() -> dict[str, Any]:
    from contract import ServiceRecord
    from services.applications.eligibility import Rule, evaluate

    record = ServiceRecord(
        employee_id="EMP0000001",
        employee_group="part1",
        date_of_birth="1980-05-10",
        date_of_joining="2019-09-01",
        status="active",
        service_periods=[{"from": "2019-09-01", "to": "2020-03-31"}, {"from": "2020-05-01", "to": None}],
        sanctioned_post=True,
        pay_head="2202-General",
        post_code="DEO",
    )
    rules = [
        Rule("five_years_continuous", True, {}, ""),
        Rule("contractual_pay_head", True, {}, ""),
        Rule("below_retirement_age", True, {}, ""),
    ]
    results = evaluate(rules, record, date(2026, 2, 1))
    return {
        "employee_id": "EMP0000001",
        "stage": "ineligible",
        "next_step": None,
        "next_deadline": None,
        "history": [],
        "eligibility": [r.__dict__ for r in results],
        "order_no": None,
        "application_no": "A-1",
        "submitted_at": "2026-01-10T05:00:00+00:00",
        "status": "submitted",
        "remarks": {},
        "submissions": 1,
        "ddo": {
            "ddo_code": "DDO-H-1",
            "district": "Hisar",
            "office_name": "Health Department, Hisar",
            "office_name_hi": "स्वास्थ्य विभाग, हिसार",
            "phone": "00000-00001",
        },
    }


def test_an_ineligible_employee_reads_why_in_hindi_with_the_values_used_what_to_do_and_whom_to_ask():
    """The reasons were English on the Hindi dashboard ("not eligible · no further step"), with no way forward."""
    r = _employee_client({"/applications/mine": _ineligible_case()}).get("/me")
    assert r.status_code == 200
    page = html.unescape(r.text)
    # the rule that failed, in Hindi, with the record's values as people write dates
    assert "15 अगस्त 2024 तक 5 वर्ष की लगातार सेवा चाहिए" in page
    assert "आपकी लगातार सेवा 1 मई 2020 से शुरू होती है" in page and "1 अप्रैल 2020 से 30 अप्रैल 2020 तक" in page
    assert "बजट शीर्ष 2202-General से" in page
    assert 'lang="en"' not in page.split("<main", 1)[1]  # no English sentence left in the page's body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page.split("<main", 1)[1])  # no ISO date for a person to read
    # what to do, and whom to ask: the DDO's office (in Hindi) with its phone, the helpdesk
    assert 'id="why-not"' in r.text and "सत्यापन प्रमाणपत्र" in page
    assert "स्वास्थ्य विभाग, हिसार" in page and "tel:00000-00001" in r.text
    english = html.unescape(_employee_client({"/applications/mine": _ineligible_case()}).get("/me?lang=en").text)
    assert "your continuous service starts on 1 May 2020" in english and "Health Department, Hisar" in english


def test_a_reason_decided_before_reasons_had_keys_is_shown_in_english_and_marked_so():
    from services.portal.i18n import rule_reason

    old = {"code": "sanctioned_post", "passed": False, "reason": "Your record shows you are not engaged."}
    assert rule_reason(old, "hi") == ("Your record shows you are not engaged.", False)
    assert rule_reason(old, "en") == ("Your record shows you are not engaged.", True)


def test_a_standard_remark_is_kept_by_its_key_and_read_in_the_readers_language():
    from services.portal import i18n

    stored = i18n.remark_stored("illegible", "  page 2 is blank ")
    assert stored == "[[illegible]] page 2 is blank"
    assert i18n.remark_text(stored, "hi").startswith("दस्तावेज़ पढ़ा नहीं जा सकता") and "page 2" in stored
    assert i18n.remark_text(stored, "en") == "The document cannot be read; upload a clear copy again. page 2 is blank"
    assert i18n.remark_stored("not-a-key", "own words") == "own words"  # a forged key is not a standard remark
    assert i18n.remark_text("[[unknown]] as typed", "hi") == "[[unknown]] as typed"
    assert i18n.remark_parts(stored) == ("illegible", "page 2 is blank")


def test_a_ddo_returns_with_a_standard_remark_sent_by_its_key(monkeypatch):
    """Return offered 11 empty text boxes, and remarks were free text in whatever language the DDO typed."""
    sent: list[dict[str, Any]] = []

    def service(r: httpx.Request) -> httpx.Response:
        if r.url.path.endswith("/decision"):
            import json as _json

            sent.append(_json.loads(r.read()))
            return httpx.Response(200, json={"status": "returned"})
        return httpx.Response(404, json={"code": "not_found", "message": "no"})

    from services.common.auth import Principal
    from services.portal import web

    async def ddo(token, request):
        return Principal("OFF-DDO-S-1", "ddo", {"ddo_code": "DDO-S-1"})

    monkeypatch.setattr(web, "decode_token", ddo)
    client = _portal(service)
    client.cookies.set(cookies.OFFICER, "a-token")
    form = {"decision": "returned", "remark_std_pan": "illegible", "remark_pan": "", "remark_date_of_joining": "check"}
    r = client.post("/desk/applications/SS-X-0000001/decision", data=form, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303
    assert sent == [{"decision": "returned", "remarks": {"pan": "[[illegible]]", "date_of_joining": "check"}}]


def test_the_receipt_can_be_kept_as_a_pdf_in_hindi_and_english():
    import pypdfium2

    status = {
        "application_no": "SS-HIS-0000012",
        "stage": "awaiting_ddo_verification",
        "submitted_at": "2026-01-10T05:00:00+00:00",
        "next_deadline": "2026-03-01T18:29:59+00:00",
    }
    client = _employee_client({"/applications/SS-HIS-0000012": status})
    page = client.get("/apply/receipt?no=SS-HIS-0000012")
    assert 'href="/apply/receipt.pdf?no=SS-HIS-0000012' in page.text
    r = client.get("/apply/receipt.pdf?no=SS-HIS-0000012")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(pypdfium2.PdfDocument(r.content)[0].get_textpage().get_text_range().split())
    for said in ("SS-HIS-0000012", "आवेदनकीरसीद", "Applicationreceipt", "10जनवरी2026,10:30", "1मार्च2026,23:59"):
        assert said in text, said
    assert client.get("/apply/receipt.pdf", follow_redirects=False).headers["location"] == "/me"
