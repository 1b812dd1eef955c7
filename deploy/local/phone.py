"""The employee's phone on the local stack: the code of an OTP the dev SMS inbox took, derived again from the
message's challenge reference with the dev key (no table holds a code). For drivers that read the inbox
table directly (the benchmark, the fault suite); tests read it through `/dev/sms`."""

from __future__ import annotations

from services.common.settings import dev_value
from services.otp.codes import otp_code

# The inbox's OTP messages that reached the phone, newest first: SELECT reference ... then code_of(reference).
DELIVERED_OTP = "template = 'otp' AND outcome = 'delivered'"


def code_of(reference: str) -> str:
    return otp_code(dev_value("otp_hmac_key"), reference)
