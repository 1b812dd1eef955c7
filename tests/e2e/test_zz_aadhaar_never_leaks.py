"""Runs last in the stack session: no full Aadhaar number entered during the suite may appear in any
table, Kafka topic, log, trace file or workflow history; only the vault holds it, encrypted."""
from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from services.common.events import ALL_TOPICS
from .conftest import AADHAAR_USED

pytestmark = pytest.mark.stack


async def test_no_full_aadhaar_number_anywhere(stack, db, temporal):
    numbers = set(AADHAAR_USED)
    assert len(numbers) >= 3, "the suite should have entered Aadhaar numbers to look for"
    variants = numbers | {f"{n[:4]} {n[4:8]} {n[8:]}" for n in numbers}

    def leaks(text: str) -> set[str]:
        return {v for v in variants if v in text}

    tables = await db.fetch("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = "
                            "ANY($1) AND table_type = 'BASE TABLE'", ["otp", "applications", "verification", "orders"])
    assert len(tables) > 15
    for t in tables:
        rows = await db.fetch(f'SELECT t::text AS row FROM "{t["table_schema"]}"."{t["table_name"]}" t')
        for row in rows:
            assert not leaks(row["row"]), f"full Aadhaar in {t['table_schema']}.{t['table_name']}"
    assert await db.fetchval("SELECT count(*) FROM applications.aadhaar_vault") >= 3  # kept, but encrypted

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
                    assert not leaks(rec.value.decode(errors="replace")), f"full Aadhaar on Kafka topic {rec.topic}"
    finally:
        await consumer.stop()
    assert seen > 20

    files = [p for p in stack.data_dir.rglob("*") if p.is_file() and p.suffix in (".log", ".jsonl")]
    assert any(p.name == "applications.log" for p in files)
    for path in files:
        assert not leaks(path.read_text(errors="replace")), f"full Aadhaar in {path.name}"

    async for wf in temporal.list_workflows("WorkflowType = 'CaseWorkflow'"):
        assert not leaks(wf.id)
        history = await temporal.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        assert not leaks(history.to_json()), f"full Aadhaar in the history of {wf.id}"
