"""Hindi first, English one click away: every string the portal shows is in messages.py in both languages.
The language is the visitor's choice (`?lang=`, kept in a cookie), Hindi by default; a page sets `lang` on
its <html>, and text the services send (in English) is replaced by the catalogue's sentence for its stable
code wherever the catalogue has one."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from string import Formatter
from typing import Any

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


def named(entry: dict[str, Any], key: str, lang: str) -> str:
    """A list entry's name in `lang`: its Hindi name (`<key>_hi`) on a Hindi page where the data owners gave one,
    else the English."""
    hindi = entry.get(f"{key}_hi") if lang == "hi" else None
    return str(hindi or entry.get(key, ""))


def rule_reason(rule: dict[str, Any], lang: str) -> tuple[str, bool]:
    """An eligibility rule's reason in `lang`, with its particulars (dates as people write them), and whether it
    is in `lang`: a result decided before reasons had keys, or with a key the catalogue lacks, is the English the
    service gave (the page marks it `lang="en"`)."""
    key, facts = rule.get("key") or "", dict(rule.get("facts") or {})
    if lang == "en" and not key:
        return str(rule.get("reason", "")), True
    if f"elig.{key}" not in MESSAGES:
        return str(rule.get("reason", "")), lang == "en"
    t = translator(lang)
    shown = {k: when(v, lang, with_time=False) if _ISO_DAY.fullmatch(v) else v for k, v in facts.items()}
    if "group" in facts and f"group.{facts['group']}" in MESSAGES:
        shown["group"] = t(f"group.{facts['group']}")
    shown["counting"] = (
        t("elig.counting_inclusive", as_on=shown.get("as_on", "")) if facts.get("counting") == "inclusive" else ""
    )
    shown["how"] = t("elig.age_how", age=facts.get("age", "")) if facts.get("counted") == "day_before_birthday" else ""
    text = t(f"elig.{key}", **{k: shown.get(k, "") for k in _fields(MESSAGES[f"elig.{key}"][LANGUAGES.index(lang)])})
    if facts.get("gaps"):
        spans = []
        for span in facts["gaps"].split(";"):
            start, _, end = span.partition("/")
            first, last = when(start, lang, with_time=False), when(end, lang, with_time=False)
            spans.append(t("elig.gap_day", on=first) if start == end else t("elig.gap_range", start=first, end=last))
        text += t("elig.gaps", gaps="; ".join(spans))
    return text, True


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(template) if name]


# A DDO's remark as stored: a standard remark's key in double brackets, then any words of the DDO's own
# ("[[illegible]] page 2 is blank"). The key is read in the reader's language; the DDO's words as written.
STANDARD_REMARKS = (
    "illegible",
    "incomplete",
    "wrong_document",
    "not_attested",
    "name_mismatch",
    "date_mismatch",
    "wrong_choice",
)
_REMARK = re.compile(r"^\[\[([a-z_]+)\]\]\s*(.*)$", re.DOTALL)


def remark_stored(key: str, own_words: str) -> str:
    """What the verification service keeps for one field: the standard remark's key (if one was chosen) and the
    DDO's own words."""
    own_words = own_words.strip()
    if key in STANDARD_REMARKS:
        return f"[[{key}]] {own_words}".strip()
    return own_words


def remark_text(stored: str, lang: str) -> str:
    found = _REMARK.match(stored or "")
    if not found or found.group(1) not in STANDARD_REMARKS:
        return stored
    said = translator(lang)(f"remark.{found.group(1)}")
    return f"{said} {found.group(2)}".strip()


def remark_parts(stored: str) -> tuple[str, str]:
    """(standard key or "", own words): to put a refused form's remarks back where they were."""
    found = _REMARK.match(stored or "")
    if found and found.group(1) in STANDARD_REMARKS:
        return found.group(1), found.group(2)
    return "", stored or ""
