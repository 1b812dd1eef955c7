"""Starting the season's cases: one case workflow per employee on record."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client
from tqdm import tqdm

from workflows.case_start import start_case


async def start_cases(
    client: Client,
    masters: list[dict[str, Any]],
    season_id: str,
    concurrency: int = 64,
    show_progress: bool = True,
    restart_failed: bool = False,
) -> int:
    """Start one case workflow per employee (their master records); an id already in use (open or closed) is
    left as it is, so a start interrupted is simply run again."""
    started = 0
    gate = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(masters), desc="starting cases", unit="case", disable=not show_progress)

    async def start_one(m: dict[str, Any]) -> None:
        nonlocal started
        async with gate:
            if await start_case(
                client,
                m["employee_id"],
                season_id,
                m["employee_group"],
                m["department_code"],
                m["district"],
                m["ddo_code"],
                restart_failed=restart_failed,
            ):
                started += 1
            bar.update(1)

    await asyncio.gather(*(start_one(m) for m in masters))
    bar.close()
    return started
