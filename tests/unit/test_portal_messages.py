"""Every string the portal shows exists in Hindi and English: each key a template or a route names is in the
catalogue, both sides are written (the English side of a service code may be left to the service's own
sentence), the Hindi side is Devanagari, and every code the services and the contract can send has its key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contract import REJECTION_REASONS, Stage
from services.applications.documents import KINDS
from services.common.auth import SCOPE_NEEDED
from services.portal import i18n, officer
from services.portal.messages import MESSAGES

PORTAL = Path(__file__).resolve().parents[2] / "services/portal"
FROM_SERVICES = ("error.", "cause.", "remedy.")  # English may come from the service's own sentence
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
# The language switch is written in the language it switches to, so each side is in the other script.
OTHER_SCRIPT = ("lang.switch", "lang.switch_label")


def _named_keys() -> set[str]:
    found: set[str] = set()
    for path in [*PORTAL.rglob("*.html"), *PORTAL.glob("*.py")]:
        found |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_]+)["']\s*[,)]""", path.read_text()))
    return found


def test_every_key_named_in_a_template_or_route_is_in_the_catalogue():
    named = _named_keys()
    assert len(named) > 150
    assert sorted(named - set(MESSAGES)) == []


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_each_entry_is_written_in_both_languages(key):
    hindi, english = MESSAGES[key]
    if key in OTHER_SCRIPT:
        hindi, english = english, hindi
    assert hindi.strip() and DEVANAGARI.search(hindi), f"{key}: the Hindi side is missing or not in Devanagari"
    assert english.strip() or key.startswith(FROM_SERVICES), f"{key}: the English side is missing"
    assert set(re.findall(r"{(\w+)}", hindi)) == set(re.findall(r"{(\w+)}", english or hindi)), key


def test_every_code_the_system_sends_has_its_words():
    needed = (
        {f"stage.{v}" for k, v in vars(Stage).items() if k.isupper()}
        | {f"doc.{k}" for k in KINDS}
        | {f"reason.{r}" for r in REJECTION_REASONS}
        | {f"role.{r}" for r in SCOPE_NEEDED}
        | {f"desk.{d}" for desks in officer.DESKS.values() for d in desks}
        | {f"deadline.{s}" for s in officer.STEPS}
        | {f"rep.by_{g}" for g in officer.REPORT_GROUPS}
        | {
            f"{p}.{c}"
            for p in ("cause", "remedy")
            for c in (
                "not_in_government_database",
                "record_inactive",
                "record_has_different_mobile",
                "ppp_mismatch",
                "non_contractual_pay_head",
                "mobile_locked",
                "no_problem_found",
                "sms_refused_by_gateway",
            )
        }
    )
    assert sorted(needed - set(MESSAGES)) == []


def test_a_date_is_written_in_the_visitors_language_in_india_standard_time():
    assert i18n.when("2026-02-20T18:29:59+00:00", "hi") == "20 फ़रवरी 2026, 23:59"
    assert i18n.when("2026-02-20T18:29:59+00:00", "en") == "20 Feb 2026, 23:59"
    assert i18n.when("2026-02-20", "en") == "20 Feb 2026"
    assert i18n.when(None, "hi") == "—"


def test_the_sign_in_and_the_season_have_words_of_their_own():
    """Both were "सत्र": "your session ends" read as "your season ends"."""
    for key, (hindi, english) in MESSAGES.items():
        if "session" in english.lower() or key.startswith("session.") or key == "error.session_expired":
            assert "सत्र" not in hindi, key
        if "season" in english.lower():
            assert "साइन-इन" not in hindi, key
