"""The portal: employees and officers use Seva Suraksha in a browser, in Hindi and English. Server-rendered
pages (Jinja2) that work as plain form posts, with htmx where a part of a page can update alone; no Node at
run time, no CDN: the assets come from npm at build time (`make portal-assets`). It keeps no data of its own:
every page reads and acts through the four services' APIs with the signed-in person's own token."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from contract import DOCUMENTS_WHEN_ASKED, MAX_DOCUMENT_BYTES, REQUIRED_DOCUMENTS
from services.common.addresses import client_addr
from services.common.health import Health
from services.common.input_guard import InputGuard
from services.common.logs import configure_logging
from services.common.metrics import metrics_answer, record_http
from services.common.settings import PortalSettings, get_settings, use_settings

from . import cookies, employee, i18n, officer, pages
from .backend import BROWSER, Backend, BackendError
from .web import HERE, carry, outage_page, problem_page

log = logging.getLogger("seva.portal")
VENDOR = HERE / "static" / "vendor"
VENDOR_FILES = (
    "htmx.min.js",
    "noto-sans-devanagari-devanagari-400-normal.woff2",
    "noto-sans-latin-400-normal.woff2",
    "noto-sans-latin-700-normal.woff2",
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_BODY = MAX_DOCUMENT_BYTES + 64 * 1024  # one document of 5 MB and its form


class UndeclaredBodyLimit:
    """Starlette's body limit for a body that does not declare its length (chunked): counted as it streams and
    stopped at the limit. A declared length is refused before anything is read, with the portal's own page (the
    frame middleware); the server delivers no more than a body declares."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app, self.limited = app, RequestBodyLimitMiddleware(app, max_body_size=max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = scope["type"] == "http" and any(k == b"content-length" for k, _ in scope.get("headers", []))
        await (self.app if declared else self.limited)(scope, receive, send)


def content_security_policy(settings: PortalSettings) -> str:
    """Only the portal's own scripts, styles and fonts; forms post only to the portal and the identity provider;
    no framing (clickjacking)."""
    issuer = urlsplit(settings.oidc_issuer)
    idp = f"{issuer.scheme}://{issuer.netloc}" if issuer.netloc else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
        f"object-src 'self'; frame-src 'self'; form-action 'self' {idp}; frame-ancestors 'none'; base-uri 'none'"
    ).replace("  ", " ")


def create_app() -> FastAPI:
    use_settings(PortalSettings)
    settings = get_settings()  # fails here, before anything starts, on a missing environment or secret
    assert isinstance(settings, PortalSettings)
    missing = [f for f in VENDOR_FILES if not (VENDOR / f).exists()]
    if missing:
        raise RuntimeError(f"the portal's assets are missing ({', '.join(missing)}): run `make portal-assets`")
    configure_logging("portal")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.backend = Backend(settings)
        try:
            yield
        finally:
            await app.state.backend.close()

    app = FastAPI(title="Seva Suraksha portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    csp = content_security_policy(settings)
    own_origin = urlsplit(settings.portal_public_url)

    @app.middleware("http")
    async def frame(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # A form posted from another site with the visitor's cookies (cross-site request forgery) is refused:
        # the browser names the page a post came from, and it must be one of ours. SameSite=Strict cookies are
        # the second lock.
        BROWSER.set(client_addr(request))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            # the largest form is one document of 5 MB; anything bigger is refused before it is read, and a
            # document goes back to its place on the documents page with the reason (it was a dead end)
            response = too_large(request)
        elif request.method not in SAFE_METHODS and not _same_origin(request, own_origin):
            log.warning("denied: a %s to %s from origin %r", request.method, request.url.path, _origin(request))
            t = i18n.translator(i18n.language_of(request))
            response = problem_page(request, 403, t("error.bad_origin"), t("error.bad_origin_do"))
        else:
            response = await call_next(request)
        asked = request.query_params.get("lang")
        if asked in i18n.LANGUAGES and request.cookies.get(cookies.LANGUAGE) != asked:
            response.set_cookie(
                cookies.LANGUAGE, asked, max_age=365 * 86400, samesite="lax", secure=settings.cookies_secure
            )
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry personal data
        return response

    app.add_middleware(InputGuard)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    # A body that declares its length is refused before it is read (the frame middleware); a chunked one declares
    # nothing and was spooled whole, however big, before any check: Starlette's limit counts it as it streams.
    app.add_middleware(UndeclaredBodyLimit, max_body_size=MAX_BODY)

    @app.exception_handler(413)
    async def _too_large(request: Request, exc: Exception) -> Response:
        return too_large(request)

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> Response:
        return outage_page(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        t = i18n.translator(i18n.language_of(request))
        if exc.status_code == 404:
            return problem_page(request, 404, t("error.not_found"), t("error.not_found_do"))
        return problem_page(request, exc.status_code, t("error.unexpected"), t("error.generic_do"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        t = i18n.translator(i18n.language_of(request))
        return problem_page(request, 400, t("error.bad_request"), t("error.generic_do"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("%s %s from %s failed", request.method, request.url.path, client_addr(request))
        t = i18n.translator(i18n.language_of(request))
        return problem_page(request, 500, t("error.unexpected"), t("error.generic_do"))

    app.middleware("http")(record_http)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics: the pages' requests by route template (services/common/metrics.py)."""
        return await metrics_answer(Health())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"service": "portal", "status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready when its assets are there (checked at start) and the process answers; the services' own
        readiness is theirs to report, and a page whose service is down says so."""
        return JSONResponse({"service": "portal", "status": "ready"})

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (pages.router, employee.router, officer.router):
        app.include_router(router)
    return app


DOCUMENT_PATH = re.compile(r"^/apply/documents/([a-z_]{1,40})$")


def too_large(request: Request) -> Response:
    """A body over the limit: a document goes back to the documents page with the reason beside it; anything
    else is a page that says so."""
    kind = DOCUMENT_PATH.match(request.url.path)
    if kind and kind.group(1) in REQUIRED_DOCUMENTS + DOCUMENTS_WHEN_ASKED:
        refused = BackendError(413, "document_too_large", "The file is larger than 5 MB.")
        return carry(
            request, f"/apply/documents#doc-{kind.group(1)}", refused=refused, field_of={refused.code: kind.group(1)}
        )
    t = i18n.translator(i18n.language_of(request))
    return problem_page(request, 413, t("error.too_large"), t("error.too_large_do"))


def _origin(request: Request) -> str | None:
    return request.headers.get("origin") or request.headers.get("referer")


def _same_origin(request: Request, own: object) -> bool:
    sent = _origin(request)
    if not sent or sent == "null":
        return False
    seen = urlsplit(sent)
    allowed = {request.url.netloc}
    netloc = getattr(own, "netloc", "")
    if netloc:
        allowed.add(netloc)
    return seen.netloc in allowed


app = create_app()
