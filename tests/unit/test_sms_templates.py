"""Every SMS the system sends is a registered template: one DLT id each, and both languages fill in."""

from __future__ import annotations

from string import Formatter

import pytest

from services.otp.sms import TEMPLATES, render

PARAMS = {
    "otp": {"code": "123456", "minutes": 10},
    "order_issued": {"order_no": "SSO/2026/HEALTH/000001"},
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
