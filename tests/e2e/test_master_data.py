"""Master data kept by its owners: drop-down entries added at run time, corrections pushed over Kafka
(applied once, refused to the dead-letter topic when not allowed), and the PPP auto-fill's mismatches."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contract import MASTERDATA_TOPIC
from services.common.events import dead_letter_topic, envelope

from .conftest import eventually
from .helpers import assert_error, employee_session, officer_headers

pytestmark = pytest.mark.stack


async def test_a_missing_post_is_added_by_the_data_owner_and_is_offered_at_once(stack, master, http):
    base = stack.url("applications")
    owner = await officer_headers(stack, http, "DATA-HKRN")
    new = {"code": "YOGAINSTR", "name": "Yoga Instructor"}
    assert "YOGAINSTR" not in {p["code"] for p in (await http.get(f"{base}/master/posts")).json()}
    r = await http.post(f"{base}/master/posts", json=new, headers=owner)
    assert r.status_code == 201, r.text
    assert "YOGAINSTR" in {p["code"] for p in (await http.get(f"{base}/master/posts")).json()}
    assert_error(await http.post(f"{base}/master/posts", json=new, headers=owner), 409, "entry_exists")
    ddo = await officer_headers(stack, http, f"OFF-{master.ddos[0]['ddo_code']}")
    assert_error(
        await http.post(f"{base}/master/posts", json={"code": "X2", "name": "X"}, headers=ddo), 403, "forbidden"
    )
    d = master.ddos[3]
    r = await http.get(
        f"{base}/master/ddos", params={"department_code": d["department_code"], "district": d["district"]}
    )
    assert [x["ddo_code"] for x in r.json()] == [d["ddo_code"]]
    r = await http.post(
        f"{base}/master/ddos",
        headers=owner,
        json={
            "ddo_code": "DDO-NEW-1",
            "department_code": d["department_code"],
            "district": "Atlantis",
            "office_name": "Nowhere office",
        },
    )
    assert_error(r, 422, "unknown_district")


async def test_the_auto_fill_shows_each_family_id_mismatch(stack, master, http):
    employee = next(e for e in master.employees if e.fault == "ppp_mismatch")
    auth = await employee_session(stack, http, employee)
    r = await http.get(f"{stack.url('otp')}/master/me", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["family_id"] == employee.master["family_id"]
    assert {m["field"] for m in body["mismatches"]} == {"name", "date_of_birth"}
    name = next(m for m in body["mismatches"] if m["field"] == "name")
    assert (name["family_id_value"], name["service_record_value"]) == (employee.ppp["name"], employee.master["name"])


async def test_corrections_pushed_over_kafka_apply_once_and_forbidden_ones_go_to_the_dead_letter_topic(
    stack, master, http, db
):
    employee = [e for e in master.employees if e.fault is None][9]
    m = employee.master
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        ok = envelope(
            "master.correction",
            m["data_owner"].lower(),
            m["employee_id"],
            {
                "changes": {"post_code": "CLERK" if m["post_code"] != "CLERK" else "MTS"},
                "reason": "post re-designated",
                "changed_by": f"{m['data_owner']}-batch-17",
                "data_owner": m["data_owner"],
            },
        )
        for _ in range(2):  # delivered twice: applied once
            await producer.send_and_wait(MASTERDATA_TOPIC, json.dumps(ok).encode(), key=m["employee_id"].encode())
        forbidden = envelope(
            "master.correction",
            "x",
            m["employee_id"],
            {
                "changes": {"mobile": "9000000009"},
                "reason": "no certificate",
                "changed_by": "someone",
                "data_owner": m["data_owner"],
            },
        )
        await producer.send_and_wait(MASTERDATA_TOPIC, json.dumps(forbidden).encode(), key=m["employee_id"].encode())
    finally:
        await producer.stop()

    async def applied():
        return await db.fetch(
            "SELECT field, source, changed_by FROM otp.master_change WHERE employee_id = $1", m["employee_id"]
        )

    rows = await eventually(applied, what="correction applied from Kafka")
    assert [(r["field"], r["source"]) for r in rows] == [("post_code", "kafka")]

    consumer = AIOKafkaConsumer(
        dead_letter_topic("otp.masterdata-corrections"),
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=f"t-{uuid.uuid4()}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def dead_lettered():
            batch = await consumer.getmany(timeout_ms=500)
            return any(
                json.loads(r.value)["event_id"] == forbidden["event_id"]
                and json.loads(r.value)["reason"] == "correction_refused"
                and "certificate_required" in json.loads(r.value)["error"]
                for records in batch.values()
                for r in records
            )

        await eventually(dead_lettered, what="refused correction on the dead-letter topic")
    finally:
        await consumer.stop()
    assert (
        await db.fetchval("SELECT mobile FROM otp.employee_master WHERE employee_id = $1", m["employee_id"])
        == m["mobile"]
    )
