"""Runs late in the stack session, after the journeys: every process answers /metrics in Prometheus' text format
with what operations watch (requests by route template, outbox, components, parked messages, OTPs requested,
delivered and verified, SMS gateway answers, cases per stage, the Temporal SDK's worker figures), and no label value anywhere looks like an employee
id or a mobile number."""

from __future__ import annotations

import re

import pytest

from services.common.metrics import labels_of

pytestmark = pytest.mark.stack

PERSONAL = re.compile(r"EMP\d{4,}|(?<!\d)[6-9]\d{9}(?!\d)|\+91|SS-\d{4}-\d{2}-\d+|SSO/")


def _value(text: str, sample: str) -> float:
    found = re.search(rf"^{re.escape(sample)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_every_process_answers_its_metrics_and_no_label_is_personal(stack, http):
    pages = {name: f"{stack.url(name)}/metrics" for name in ("otp", "applications", "verification", "orders")}
    pages["cases"] = f"http://127.0.0.1:{stack.ports.cases_health}/metrics"
    pages["portal"] = f"{stack.portal_url}/metrics"
    texts = {}
    for name, url in pages.items():
        r = await http.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), (name, r.text[:200])
        texts[name] = r.text
        for metric, label, value in labels_of(r.text):
            assert not PERSONAL.search(value), f"{name}: {metric} label {label}={value!r} looks personal"
    for name in ("otp", "applications", "verification", "orders"):
        assert "seva_http_requests_total{" in texts[name] and f'seva_outbox_waiting{{service="{name}"}}' in texts[name]
        assert 'route="/applications/{application_no}"' in texts["applications"] or name != "applications"
        assert "seva_component_up{" in texts[name]
    otp = texts["otp"]
    for outcome in ("requested", "delivered", "verified"):
        assert _value(otp, f'seva_otp_total{{outcome="{outcome}"}}') > 0, outcome
    assert _value(otp, 'seva_sms_gateway_answers_total{outcome="delivered",template="otp"}') > 0
    assert "seva_cases{" in texts["cases"] and 'seva_component_up{component="temporal-worker-cases"' in texts["cases"]
    assert "seva_http_requests_total{" in texts["portal"]
    # the Temporal SDK's own figures on the same page, where a worker polls: pollers, slots, task latencies
    for name in ("cases", "otp", "applications", "verification", "orders"):
        assert "temporal_num_pollers{" in texts[name], f"{name}: no Temporal SDK worker metrics"
    assert "temporal_workflow_task_execution_latency" in texts["cases"]


def test_the_label_check_catches_a_planted_personal_label():
    text = 'seva_http_requests_total{route="/otp/9876543210",method="GET",status="200"} 1.0\n'
    assert any(PERSONAL.search(v) for _, _, v in labels_of(text))
    assert any(PERSONAL.search(v) for _, _, v in labels_of('x_total{employee="EMP0000001"} 1.0\n'))
