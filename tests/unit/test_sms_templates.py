"""Every SMS the system sends is a registered template: one DLT id each, and both languages fill in."""

from __future__ import annotations

from string import Formatter
from typing import Any

import pytest

from services.otp.sms import TEMPLATES, render

PARAMS: dict[str, dict[str, Any]] = {
    "otp": {"code": "123456", "minutes": 10},
    "order_issued": {"order_no": "SSO/2026/HEALTH/000001"},
    "application_received": {"application_no": "SS-2025-26-0000001"},
    "registration_reminder": {"days": 7, "closes": "20 Feb 2026 23:59 IST"},
    "registration_reopened": {"closes": "20 Feb 2026 23:59 IST"},
    "officer_escalated_to_you": {
        "what": "application SS-2025-26-0000001",
        "from_ref": "DDO-HEALTH-HISAR-1",
        "step": "DDO verification",
        "respond_by": "07-03-2026",
    },
    "officer_deadline_missed": {
        "what": "application SS-2025-26-0000001",
        "step": "DDO verification",
        "days": "3",
        "to_role": "the Head of Department",
    },
    "officer_pending_work": {"count": "12", "overdue": "2", "due": "28-02-2026"},
    "case_superannuated": {"last_day": "31-01-2027"},
    "officer_case_closed": {
        "what": "application SS-2025-26-0000001",
        "reason": "the employee reached superannuation on 31 Jan 2027, before the order: no order is issued",
    },
    "mobile_confirmation": {"link": "https://sevasuraksha.example/m/3f2c/ab12cd34ef56"},
}


def test_each_template_has_its_own_dlt_id():
    ids = [template_id for template_id, _, _ in TEMPLATES.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("language", ["en", "hi"])
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_renders_with_its_parameters(name, language):
    params = PARAMS.get(name, {})
    template_id, text = render(name, params, language)
    assert template_id == TEMPLATES[name][0] and "{" not in text and text
    raw = TEMPLATES[name][1 if language == "en" else 2]
    for field in {f for _, f, _, _ in Formatter().parse(raw) if f}:
        assert str(params[field]) in text


def test_a_confirmation_link_has_its_code_only_on_its_way_to_the_phone():
    """Like an OTP: the recorded message holds the link with its code masked; the gateway's text has the code,
    derived from the confirmation id with the OTP key (services/otp/codes.py)."""
    from types import SimpleNamespace

    from services.otp.codes import confirmation_code, is_confirmation_code
    from services.otp.sms import MASKED_CODE, _with_code, recorded_params

    data: dict[str, Any] = {
        "template": "mobile_confirmation",
        "params": {"portal": "https://sevasuraksha.example"},
        "confirmation_id": "0b9e8c1e-1111-4222-8333-944455556666",
    }
    params = recorded_params(data)
    recorded = render("mobile_confirmation", params, "hi")[1]
    assert f"https://sevasuraksha.example/m/{data['confirmation_id']}/{MASKED_CODE}" in recorded
    ctx = SimpleNamespace(settings=SimpleNamespace(otp_hmac_key="k" * 32))
    sent = _with_code(ctx, data, params, "hi")  # type: ignore[arg-type]
    code = confirmation_code("k" * 32, data["confirmation_id"])
    assert f"/m/{data['confirmation_id']}/{code}" in sent and MASKED_CODE not in sent
    assert is_confirmation_code("k" * 32, data["confirmation_id"], code)
    assert not is_confirmation_code("j" * 32, data["confirmation_id"], code)  # another key: another code
