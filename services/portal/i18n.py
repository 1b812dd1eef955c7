"""Hindi first, English one click away: every string the portal shows is in messages.py in both languages.
The language is the visitor's choice (`?lang=`, kept in a cookie), Hindi by default; a page sets `lang` on
its <html>, and text the services send (in English) is replaced by the catalogue's sentence for its stable
code wherever the catalogue has one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from starlette.requests import Request

from contract import IST

from .cookies import LANGUAGE
from .messages import MESSAGES as MESSAGES

LANGUAGES = ("hi", "en")
DEFAULT = "hi"
_MONTHS = {
    "hi": ["जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def language_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(LANGUAGE)
    return kept if kept in LANGUAGES else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    index = LANGUAGES.index(lang)

    def t(key: str, **values: object) -> str:
        text = MESSAGES[key][index]
        return text.format(**values) if values else text

    return t


def has(key: str) -> bool:
    return key in MESSAGES


def when(value: datetime | date | str | None, lang: str, with_time: bool = True) -> str:
    """A date (and time) as people in Haryana write it, in India Standard Time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(IST)
    text = f"{value.day} {_MONTHS[lang][value.month - 1]} {value.year}"
    return f"{text}, {value:%H:%M}" if with_time and isinstance(value, datetime) else text
