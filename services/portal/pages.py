"""The pages everyone may read: the home page with the season's deadlines in force, and the help, contact,
privacy, terms, accessibility, feedback and sitemap pages every government site carries (GIGW 3.0)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .backend import BackendError
from .web import backend_of, render, visitor

router = APIRouter()
DEADLINES = ("registration_open", "registration_close", "ddo_verification", "post_creation", "order_issue")


@router.get("/")
async def home(request: Request) -> Response:
    await visitor(request)
    try:
        calendar = await backend_of(request).json("applications", "GET", "/calendar")
    except BackendError:
        calendar = None  # the home page still shows; the deadlines say they cannot be read just now
    return render(request, "home.html", {"calendar": calendar, "deadlines": DEADLINES})


def _static_page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        await visitor(request)
        return render(request, f"pages/{name}.html")

    page.__name__ = f"{name}_page"
    return page


# the pages every government site carries (GIGW 3.0)
for _name in ("help", "contact", "privacy", "terms", "accessibility", "feedback", "sitemap"):
    router.add_api_route(f"/{_name}", _static_page(_name), methods=["GET"])
