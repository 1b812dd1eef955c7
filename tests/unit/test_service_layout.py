"""One name scheme in every service: a module that declares routes is `router.py` or `<area>_router.py`, and
the rules and SQL of an area live in `service.py` or `<area>.py` beside it (never `<area>_service.py`), so
a reader finds an endpoint's rules by the router's name in every service alike."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("otp", "applications", "verification", "orders")


def test_routers_and_their_rules_are_named_alike_in_every_service():
    wrong = []
    for name in SERVICES:
        for path in sorted((ROOT / "services" / name).glob("*.py")):
            declares_routes = "APIRouter(" in path.read_text()
            is_router_name = path.stem == "router" or path.stem.endswith("_router")
            if declares_routes != is_router_name:
                wrong.append(f"{path.relative_to(ROOT)}: {'routes' if declares_routes else 'no routes'}")
            if path.stem.endswith("_service"):
                wrong.append(f"{path.relative_to(ROOT)}: an area's rules are <area>.py")
            area = path.stem.removesuffix("_router")
            if path.stem.endswith("_router") and not (path.parent / f"{area}.py").exists():
                wrong.append(f"{path.relative_to(ROOT)}: no {area}.py beside it")
    assert not wrong
