"""Before the season opens, every employee on record is asked by SMS whether the number on their record is theirs
(`seva audit confirm-mobiles`), on the real stack: the SMS carries a link to a one-tap page on the portal, the
answer reaches the OTP service, and the pre-season audit weighs it above the Family ID registry (which some
families gave no mobile and some another member's): a confirmed number is not flagged though the registry
differs, "not mine" is, and so is no answer where the registry has no number to compare."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.otp.preseason import BLOCKS_OTP, audit

from .conftest import eventually
from .helpers import assert_error

pytestmark = pytest.mark.stack

LINK = re.compile(r"/m/([0-9a-f-]{36})/(\w+)")


def confirm_mobiles(stack, *args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "seva"), "audit", "confirm-mobiles", "--database-url", stack.database_url]
        + ["--portal-url", stack.portal_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SEVA_ENV": "dev"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


async def link_sent_to(stack, http, mobile: str) -> tuple[str, str]:
    async def probe():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": mobile})
        sent = [m for m in r.json() if m["template"] == "mobile_confirmation" and m["outcome"] == "delivered"]
        return sent and sent[-1]

    message = await eventually(probe, what=f"the confirmation SMS for {mobile[-2:]}")
    found = LINK.search(message["body"])
    assert found and message["body"].startswith("सेवा सुरक्षा"), message["body"]  # Hindi unless chosen otherwise
    return found.group(1), found.group(2)


async def findings_of(db, employee_id: str) -> set[str]:
    async with db.acquire() as conn:
        return {f.code for f in await audit(conn) if f.employee_id == employee_id}


async def test_the_answers_to_the_sms_question_outweigh_the_family_id_registry(stack, master, http, db):
    from collections import Counter

    wrong = next(e for e in master.employees if e.fault == "wrong_mobile")
    clean = [e for e in master.employees if e.fault is None]
    ddo = Counter(e.master["ddo_code"] for e in clean).most_common(1)[0][0]
    # two whose Family ID entry holds their own number (the registry has none, or another member's, for some)
    mine, silent = [e for e in clean if e.master["ddo_code"] == ddo and e.ppp["mobile"] == e.actual_mobile][:2]
    active = await db.fetchval(
        "SELECT count(*) FROM otp.employee_master WHERE ddo_code = $1 AND status = 'active' AND mobile IS NOT NULL",
        ddo,
    )
    assert f"{active:,} employees asked" in confirm_mobiles(stack, "--ddo", ddo)
    assert "0 employees asked" in confirm_mobiles(stack, "--ddo", ddo)  # a re-run asks nobody twice
    confirm_mobiles(stack, "--ddo", wrong.master["ddo_code"])

    # no table holds the link's code: the recorded message has it masked
    recorded = await db.fetchval(
        "SELECT body FROM otp.sms_delivery WHERE employee_id = $1 AND template = 'mobile_confirmation'",
        mine.master["employee_id"],
    )
    assert re.search(r"/m/[0-9a-f-]{36}/\*{6} ", recorded), recorded

    # the employee opens the link on the portal and says the number is theirs; the registry has another member's
    cid, code = await link_sent_to(stack, http, mine.actual_mobile)
    assert code not in recorded and cid in recorded
    async with httpx.AsyncClient(base_url=stack.portal_url, timeout=30) as portal:
        page = await portal.get(f"/m/{cid}/{code}")
        assert page.status_code == 200 and "क्या यह नंबर आपका है?" in page.text
        assert mine.actual_mobile not in page.text and mine.actual_mobile[-2:] in page.text
        r = await portal.post(f"/m/{cid}/{code}", data={"answer": "mine"}, headers={"Origin": stack.portal_url})
        assert r.status_code == 200 and 'data-answer="mine"' in r.text
        assert (await portal.get(f"/m/{cid}/{code[:-1]}x")).status_code == 404  # a link altered by one letter
    otp = f"{stack.url('otp')}/otp/mobile-confirmations/{cid}"
    assert (await http.post(f"{otp}/{code}", json={"answer": "mine"})).status_code == 200  # the same again
    assert_error(await http.post(f"{otp}/{code}", json={"answer": "not_mine"}), 409, "already_answered")
    assert_error(await http.post(f"{otp}/{'0' * 12}", json={"answer": "mine"}), 404, "confirmation_not_found")
    assert_error(await http.post(f"{otp}/{code}", json={"answer": "maybe"}), 422, "invalid_request")

    # a reminder goes, with the same link, to the numbers that have not answered, once they have waited long enough
    assert "0 employees reminded" in confirm_mobiles(stack, "--ddo", ddo, "--remind")  # asked minutes ago
    assert f"{active - 1:,} employees reminded" in confirm_mobiles(
        stack, "--ddo", ddo, "--remind", "--after-hours", "0"
    )

    async def twice():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": silent.actual_mobile})
        sent = [m["body"] for m in r.json() if m["template"] == "mobile_confirmation"]
        return len(sent) == 2 and sent

    first, again = await eventually(twice, what="the reminder")
    assert first == again  # the same question, the same link
    r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": mine.actual_mobile})
    assert len([m for m in r.json() if m["template"] == "mobile_confirmation"]) == 1  # it had answered

    # the stranger who holds the wrong number on record says it is not the employee's
    cid, code = await link_sent_to(stack, http, wrong.master["mobile"])
    r = await http.post(f"{stack.url('otp')}/otp/mobile-confirmations/{cid}/{code}", json={"answer": "not_mine"})
    assert r.status_code == 200 and r.json() == {"masked_mobile": r.json()["masked_mobile"], "answer": "not_mine"}

    families = {e.master["employee_id"]: e.master["family_id"] for e in (mine, silent)}
    saved = dict(
        await db.fetch(
            "SELECT family_id, mobile FROM otp.ppp_registry WHERE family_id = ANY($1::text[])", list(families.values())
        )
    )
    try:
        await db.execute(
            "UPDATE otp.ppp_registry SET mobile = '9000000001' WHERE family_id = $1",
            families[mine.master["employee_id"]],
        )
        await db.execute(
            "UPDATE otp.ppp_registry SET mobile = NULL WHERE family_id = $1", families[silent.master["employee_id"]]
        )
        confirmed = await findings_of(db, mine.master["employee_id"])
        assert "family_id_mobile_outdated" in confirmed and not confirmed & BLOCKS_OTP
        assert "mobile_not_mine" in await findings_of(db, wrong.master["employee_id"])
        assert "mobile_unconfirmed" in await findings_of(db, silent.master["employee_id"])
    finally:
        for family_id, mobile in saved.items():
            await db.execute("UPDATE otp.ppp_registry SET mobile = $2 WHERE family_id = $1", family_id, mobile)
    assert not await findings_of(db, silent.master["employee_id"]) & BLOCKS_OTP  # the registry vouches again
