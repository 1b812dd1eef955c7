"""The employee's phone on the local stack: the code of an OTP the dev SMS inbox took, derived again from the
message's challenge reference with the dev key (no table holds a code). For drivers that read the inbox
table directly (the benchmark, the fault suite); tests read it through `/dev/sms`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from services.common.settings import dev_value
from services.otp.codes import confirmation_code, otp_code

OTP_IN_TEXT = re.compile(r"^(\d{6}) ")  # the OTP template opens with the code, in both languages

# The inbox's OTP messages that reached the phone, newest first: SELECT reference ... then code_of(reference).
DELIVERED_OTP = "template = 'otp' AND outcome = 'delivered'"


def code_of(reference: str) -> str:
    return otp_code(dev_value("otp_hmac_key"), reference)


def confirmation_link_code(reference: str) -> str:
    """The code in a pre-season "is this number yours?" link the inbox took (services/otp/confirmation.py)."""
    return confirmation_code(dev_value("otp_hmac_key"), reference)


NEWEST_OTP_SINCE = (
    f"SELECT reference FROM otp.sms_delivery WHERE mobile = $1 AND {DELIVERED_OTP} AND handled_at >= $2 "
    "ORDER BY handled_at DESC LIMIT 1"
)


async def otp_since(
    fetchval: Callable[..., Awaitable[Any]], mobile: str, after: datetime, wait: float, interval: float = 0.5
) -> str | None:
    """The code of the newest OTP the phone received since `after`, waiting up to `wait` seconds; None if none
    came. `fetchval` reads the inbox (a pool's, or a driver's that waits out an outage)."""
    give_up = time.monotonic() + wait
    while True:
        reference = await fetchval(NEWEST_OTP_SINCE, mobile, after)
        if reference:
            return code_of(reference)
        if time.monotonic() >= give_up:
            return None
        await asyncio.sleep(interval)


async def otp_at_gateway(
    http: Any, gateway_url: str, mobile: str, after: datetime, wait: float, interval: float = 0.5
) -> str | None:
    """The production topology's phone: the code in the newest OTP the SMS gateway (deploy/local/sms_gateway.py)
    accepted for the mobile since `after`, read from its text as the employee reads it; None if none came."""
    give_up = time.monotonic() + wait
    while True:
        try:
            r = await http.get(f"{gateway_url}/messages", params={"to": mobile}, timeout=10)
            messages = r.json() if r.status_code == 200 else []
        except Exception:  # the gateway is down (a fault row): the phone shows nothing new
            messages = []
        for m in reversed(messages):
            if datetime.fromisoformat(m["at"]) >= after and (code := OTP_IN_TEXT.search(m["text"])):
                return code.group(1)
        if time.monotonic() >= give_up:
            return None
        await asyncio.sleep(interval)
