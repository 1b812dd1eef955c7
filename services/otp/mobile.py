"""Indian mobile numbers: normalised to 10 digits starting 6-9, with or without +91 / 0."""

from __future__ import annotations

import re

from services.common.errors import ApiError

_MOBILE = re.compile(r"^[6-9]\d{9}$")


def normalise_mobile(raw: str) -> str:
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+91"):
        digits = digits[3:]
    elif digits.startswith("91") and len(digits) == 12:
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) == 11:
        digits = digits[1:]
    if not _MOBILE.match(digits):
        raise ApiError(
            422,
            "invalid_mobile",
            "Enter a 10-digit Indian mobile number starting with 6, 7, 8 or 9 (with or without +91).",
        )
    return digits


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:2]}XXXXXX{mobile[-2:]}" if len(mobile) == 10 else "XXXXXXXXXX"
