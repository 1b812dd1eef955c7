"""The last-day surge, as Locust plays it (run headless by bench/surge.py in a process of its own: Locust patches
the standard library with gevent, which the asyncio bench driver must never import).

Each Locust user is one employee after another, each going through the portal as a phone does: the home page,
the OTP (the code read from the dev SMS inbox, as the phone would show it), the identity step, six documents,
the form, the review, the submit and the dashboard, with a person's pause between pages. The shape adds users
step by step and stops by itself at the first step where any page's p95 passes the limit or any request fails,
or after the last step. What each step saw is written as JSON to SEVA_SURGE_OUT; the driver judges nothing
here, it reads the steps."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import time
from collections import defaultdict
from typing import Any

import gevent
from locust import HttpUser, LoadTestShape, constant, events, task
from locust.exception import StopUser

EMPLOYEES: list[dict[str, Any]] = json.loads(open(os.environ["SEVA_SURGE_EMPLOYEES"]).read())
NEXT = iter(EMPLOYEES)
OTP_URL = os.environ["SEVA_SURGE_OTP_URL"]
OUT = os.environ["SEVA_SURGE_OUT"]
USERS = [int(u) for u in os.environ.get("SEVA_SURGE_USERS", "4,8,16,32,64,128").split(",")]
STEP_SECONDS = float(os.environ.get("SEVA_SURGE_STEP_SECONDS", "60"))
P95_LIMIT_MS = float(os.environ.get("SEVA_SURGE_P95_MS", "1000"))
THINK_SECONDS = float(os.environ.get("SEVA_SURGE_THINK_SECONDS", "1.0"))
PHONE = "phone: "  # the requests that stand for the phone itself (its SMS inbox): not pages, never judged
# A phone's scanned page, shrunk in the browser before it is sent (the portal does this): about 100 KB
DOCUMENT = b"%PDF-1.4\n1 0 obj <<>> endobj\n%" + b"x" * 100_000 + b"\ntrailer <<>>\n%%EOF\n"
DOCUMENTS = ("family_id", "aadhaar", "pan", "appointment_letter", "experience_certificate", "bank_passbook")
FORM = ("department_code", "district", "post_code", "ddo_code", "date_of_joining")


class Steps:
    """Every request, filed under the step it started in."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.times: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.errors: dict[int, list[str]] = defaultdict(list)
        self.journeys: dict[int, int] = defaultdict(int)
        self.ran_out = False

    def now(self) -> int:
        return int((time.monotonic() - self.started) // STEP_SECONDS)

    def judge(self, step: int) -> str | None:
        """Why the surge stops after this step, or None."""
        if self.errors[step]:
            return f"{len(self.errors[step])} failed requests (first: {self.errors[step][0]})"
        over = {n: _p95(t) for n, t in self.times[step].items() if not n.startswith(PHONE) and _p95(t) > P95_LIMIT_MS}
        if over:
            return "p95 over the limit: " + ", ".join(f"{n} {ms:.0f} ms" for n, ms in over.items())
        return None

    def write(self, stopped: str) -> None:
        steps = [
            {
                "users": USERS[s] if s < len(USERS) else USERS[-1],
                "seconds": STEP_SECONDS,
                "journeys": self.journeys[s],
                "errors": self.errors[s][:5],
                "error_count": len(self.errors[s]),
                "p95": {n: _p95(t) for n, t in sorted(self.times[s].items())},
                "p50": {n: _p50(t) for n, t in sorted(self.times[s].items())},
                "requests": {n: len(t) for n, t in sorted(self.times[s].items())},
            }
            for s in sorted(set(self.times) | set(self.errors))
        ]
        with open(OUT, "w") as f:
            json.dump({"steps": steps, "stopped": stopped, "ran_out": self.ran_out, "p95_limit_ms": P95_LIMIT_MS}, f)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0


def _p50(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


STEPS = Steps()


@events.request.add_listener  # type: ignore[untyped-decorator]
def _record(name: str, response_time: float, exception: BaseException | None, response: Any, **_: Any) -> None:
    step = STEPS.now()
    if exception is not None:
        STEPS.errors[step].append(f"{name}: {exception!r}"[:200])
    else:
        STEPS.times[step][name].append(response_time)


class Surge(LoadTestShape):
    """Users rise step by step; after each step the last one is judged, and the first that fails ends the run."""

    stopped = ""

    def tick(self) -> tuple[int, float] | None:
        step = STEPS.now()
        if step >= 1 and not Surge.stopped:
            why = STEPS.judge(step - 1)
            if why:
                Surge.stopped = f"after step {step} ({USERS[step - 1]} users): {why}"
            elif STEPS.ran_out:
                Surge.stopped = f"out of employees in step {step} ({USERS[step - 1]} users)"
            elif step >= len(USERS):
                Surge.stopped = f"after the last step ({USERS[-1]} users), every page within the limit"
        if Surge.stopped:
            if not os.path.exists(OUT):
                STEPS.write(Surge.stopped)
            return None
        return USERS[step], USERS[step]  # all of a step's users at once: its requests are judged together


class SecureOnLoopback(http.cookiejar.DefaultCookiePolicy):
    """The portal's cookies are Secure; Chromium sends them to 127.0.0.1 over http (a secure context), and so
    does this phone."""

    secure_protocols = ("https", "wss", "http")


class Employee(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.cookies.set_policy(SecureOnLoopback())
        self.client.headers["Origin"] = (self.host or "").rstrip("/")  # a form posted from the portal's own page

    def pause(self) -> None:
        gevent.sleep(THINK_SECONDS)

    def page(self, method: str, path: str, name: str, **kw: Any) -> Any:
        with self.client.request(method, path, name=name, catch_response=True, **kw) as r:
            if r.status_code >= 400:
                r.failure(f"{r.status_code} at {r.url}")
            return r

    def otp_code(self, mobile: str, seen: int) -> str | None:
        for _ in range(300):  # up to a minute: the SMS is sent after its commit, through Kafka
            r = self.client.get(OTP_URL + "/dev/sms", params={"mobile": mobile}, name=PHONE + "SMS inbox")
            otps = [m for m in r.json() if m["template"] == "otp" and m["outcome"] == "delivered"]
            if len(otps) > seen:
                found = re.search(r"\b(\d{6})\b", otps[-1]["body"])
                return found.group(1) if found else None
            gevent.sleep(0.2)
        return None

    @task
    def one_employee(self) -> None:
        try:
            e = next(NEXT)
        except StopIteration:
            STEPS.ran_out = True
            raise StopUser() from None
        self.client.cookies.clear()
        mobile = e["mobile"]
        self.page("GET", "/", "home")
        self.pause()
        self.page("GET", "/login", "login")
        seen = len(
            [
                m
                for m in self.client.get(
                    OTP_URL + "/dev/sms", params={"mobile": mobile}, name=PHONE + "SMS inbox"
                ).json()
                if m["template"] == "otp"
            ]
        )
        self.pause()
        self.page("POST", "/login", "ask for an OTP (then the code page)", data={"mobile": mobile})
        code = self.otp_code(mobile, seen)
        if code is None:
            events.request.fire(  # type: ignore[no-untyped-call]
                request_type="SMS",
                name=PHONE + "OTP never came",
                response_time=60_000,
                response_length=0,
                exception=RuntimeError(f"no OTP for ..{mobile[-2:]}"),
                context={},
            )
            return
        self.pause()
        r = self.page("POST", "/login/verify", "verify the OTP (then the dashboard)", data={"code": code})
        if not r.url.endswith("/me"):
            return
        self.pause()
        self.page("GET", "/apply", "details")
        self.pause()
        self.page(
            "POST",
            "/apply/identity",
            "identity (then the documents page)",
            data={"aadhaar_number": e["aadhaar"], "pan": e["pan"]},
        )
        for kind in DOCUMENTS:
            self.pause()
            self.page(
                "POST",
                f"/apply/documents/{kind}",
                "a document (then the documents page)",
                files={"document": (f"{kind}.pdf", DOCUMENT, "application/pdf")},
            )
        self.pause()
        self.page("GET", "/apply/form", "form")
        form = {k: e["form"][k] for k in FORM}
        self.pause()
        self.page("POST", "/apply/review", "review", data=form)
        self.pause()
        r = self.page("POST", "/apply/submit", "submit (then the receipt)", data={**form, "confirm": "yes"})
        self.pause()
        self.page("GET", "/me", "dashboard")
        if "/apply/receipt" in r.url or any("/apply/receipt" in h.headers.get("location", "") for h in r.history):
            STEPS.journeys[STEPS.now()] += 1  # filed under the step it ended in
        else:
            events.request.fire(  # type: ignore[no-untyped-call]
                request_type="JOURNEY",
                name="submit (then the receipt)",
                response_time=0,
                response_length=0,
                exception=RuntimeError(f"the submit ended at {r.url}, not the receipt"),
                context={},
            )


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _at_quit(environment: Any, **_: Any) -> None:
    if not os.path.exists(OUT):  # stopped by --run-time or a signal, not by the shape
        STEPS.write(Surge.stopped or "stopped from outside (the run's time limit)")
