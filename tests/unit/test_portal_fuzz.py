"""The portal fuzzer (tests/e2e/portal_fuzz.py) must be able to fail: against a small app with a planted
fault of the kind found in the portal (a form value over 65,536 characters put into an address: a 500), it
reports that route and only that route; a field only a rendered form names is learnt by crawling."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI, Form
from fastapi.responses import HTMLResponse
from starlette.requests import Request
from starlette.testclient import TestClient

from tests.e2e.portal_fuzz import crawl, fuzz, targets

router = APIRouter()


@router.get("/start", response_class=HTMLResponse)
async def start() -> str:
    return (
        '<form method="post" action="/review"><input name="department_code" value="HEALTH"></form>'
        '<a href="/cases/C-1">a case</a>'
    )


@router.post("/review")
async def review(request: Request) -> str:
    form = await request.form()  # the field is read by hand: only the rendered form names it
    httpx.URL(f"http://backend/departments/{form.get('department_code', '')}")  # raises over 65,536 characters
    return "ok"


@router.post("/plain")
async def plain(name: str = Form("")) -> str:
    return name[:10]


@router.get("/cases/{case_id}")
async def case(case_id: str) -> str:
    if case_id == "C-1":
        return "the case"
    return "not found"


app = FastAPI()
app.include_router(router)


def client() -> httpx.Client:
    return TestClient(app, raise_server_exceptions=False)


def test_the_fuzzer_finds_the_planted_500_and_nothing_else():
    found = targets(router.routes)
    with client() as c:
        assert crawl(c, found) == []
    by_label = {t.label: t for t in found}
    assert "department_code" in by_label["POST /review"].names  # learnt from the page
    assert by_label["GET /cases/{case_id}"].concrete == {"/cases/C-1"}
    failures: dict[str, list[str]] = {}
    for target in found:
        sent, failed = fuzz(client, target, 30, "http://testserver")
        assert sent == 30
        failures[target.label] = failed
    assert failures["POST /review"], "the planted 500 was not found"
    assert all(not failed for label, failed in failures.items() if label != "POST /review"), failures


def test_a_generated_address_stays_under_what_a_browser_and_the_server_take():
    """The server's HTTP parser refuses a request line over 16 KiB before the portal sees it, and its 400 races the
    request still being sent (the client may read a reset): the fuzzer keeps the whole address, encoded, under
    ADDRESS, dropping the longest fields first."""
    from tests.e2e.portal_fuzz import ADDRESS, send

    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url.raw_path, "ascii"))
        return httpx.Response(200)

    target = next(t for t in targets(router.routes) if t.method == "GET" and not t.path_params)
    fields = {"long": ["प्रमाण" * 700] * 3, "wide": "x" * 3000, "short": "HEALTH"}
    with httpx.Client(transport=httpx.MockTransport(answer), base_url="http://portal") as client:
        assert send(client, target, {"path": target.path, "fields": fields, "files": {}}, "http://portal") == [200]
    assert len(sent[0]) < ADDRESS
    assert "short=HEALTH" in sent[0] and "wide=" in sent[0] and "long=" not in sent[0]
