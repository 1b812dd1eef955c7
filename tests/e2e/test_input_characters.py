"""A NUL or a lone surrogate anywhere a client can put text is a 400 with a stable code on every service,
public routes included, never a 500 (each of these was a 500)."""

from __future__ import annotations

import pytest

from .helpers import assert_error

pytestmark = pytest.mark.stack

NUL, SURROGATE = "%00", "%ED%A0%80"


@pytest.mark.parametrize("bad", [NUL, SURROGATE, "a%00b"])
async def test_a_bad_character_in_a_path_or_query_is_a_400(stack, http, bad):
    assert_error(await http.get(f"{stack.url('applications')}/calendar?season_id={bad}"), 400, "invalid_characters")
    assert_error(await http.get(f"{stack.url('orders')}/orders/{bad}/verify"), 400, "invalid_characters")
    assert_error(await http.get(f"{stack.url('verification')}/verification/queue?x={bad}"), 400, "invalid_characters")


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "x\\udfffy"])
async def test_a_bad_character_in_a_json_body_is_a_400(stack, http, escape):
    body = ('{"family_id": "1A000001' + escape + '", "date_of_birth": "1990-01-01", "mobile": "9876543210"}').encode()
    r = await http.post(
        f"{stack.url('otp')}/otp/why-no-otp", content=body, headers={"content-type": "application/json"}
    )
    assert_error(r, 400, "invalid_characters")
    r = await http.post(
        f"{stack.url('otp')}/otp/request",
        content=('{"mobile": "98765' + escape + '43210"}').encode(),
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400, "invalid_characters")


async def test_escaped_text_that_is_fine_passes_the_guard(stack, http):
    # an emoji as a surrogate pair and an escaped backslash before "u0000" are ordinary text
    body = b'{"family_id": "1A\\ud83d\\ude00", "date_of_birth": "1990-01-01", "mobile": "98765\\\\u0000"}'
    r = await http.post(
        f"{stack.url('otp')}/otp/why-no-otp", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code in (404, 422), r.text
    assert r.json()["code"] != "invalid_characters"
