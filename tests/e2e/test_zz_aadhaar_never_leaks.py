"""Runs last in the stack session: no full Aadhaar number entered during the suite, and no OTP code sent
during it, may appear in any table, Kafka topic (dead-letter topics included), log, trace file or workflow
history; only the vault holds an Aadhaar number, encrypted, and nothing holds a code."""
from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from services.common.events import ALL_TOPICS
from .conftest import AADHAAR_USED, OTP_CODES_SEEN

pytestmark = pytest.mark.stack


async def _scan_everywhere(stack, db, temporal, leaks) -> None:
    tables = await db.fetch("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = "
                            "ANY($1) AND table_type = 'BASE TABLE'", ["otp", "applications", "verification", "orders"])
    assert len(tables) > 15
    for t in tables:
        rows = await db.fetch(f'SELECT t::text AS row FROM "{t["table_schema"]}"."{t["table_name"]}" t')
        for row in rows:
            assert not leaks(row["row"]), f"{leaks(row['row'])} in {t['table_schema']}.{t['table_name']}"

    consumer = AIOKafkaConsumer(*ALL_TOPICS, bootstrap_servers=stack.kafka_bootstrap, group_id=f"scan-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen = 0
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=2000)
            if not batch:
                break
            for records in batch.values():
                for rec in records:
                    seen += 1
                    text = rec.value.decode(errors="replace")
                    assert not leaks(text), f"{leaks(text)} on Kafka topic {rec.topic}"
    finally:
        await consumer.stop()
    assert seen > 20

    files = [p for p in stack.data_dir.rglob("*") if p.is_file() and p.suffix in (".log", ".jsonl")]
    assert any(p.name == "applications.log" for p in files)
    for path in files:
        assert not leaks(path.read_text(errors="replace")), f"{path.name} holds it"

    async for wf in temporal.list_workflows("WorkflowType = 'CaseWorkflow'"):
        assert not leaks(wf.id)
        history = await temporal.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        assert not leaks(history.to_json()), f"the history of {wf.id} holds it"


async def test_no_full_aadhaar_number_anywhere(stack, db, temporal):
    numbers = set(AADHAAR_USED)
    assert len(numbers) >= 3, "the suite should have entered Aadhaar numbers to look for"
    variants = numbers | {f"{n[:4]} {n[4:8]} {n[8:]}" for n in numbers}
    await _scan_everywhere(stack, db, temporal, lambda text: {v for v in variants if v in text})
    assert await db.fetchval("SELECT count(*) FROM applications.aadhaar_vault") >= 3  # kept, but encrypted


async def test_no_usable_otp_code_anywhere(stack, db, temporal):
    """A code as a message or a field would hold it: the SMS text in either language, or a `code` value."""
    codes = set(OTP_CODES_SEEN)
    assert len(codes) >= 5, "the suite should have read OTP codes to look for"
    shapes = [shape for c in codes for shape in (f"{c} is your", f"{c} आपका", f'"code": "{c}"', f'"code":"{c}"',
                                                 f"'code': '{c}'")]
    await _scan_everywhere(stack, db, temporal, lambda text: {s for s in shapes if s in text})
