"""`seva import --records OWNER=file.csv ...`: the state's real master records, one CSV file per data owner
(HKRN for Part-1, TREASURY for Part-2, HARTRON). Every row of every file is checked first, each problem
reported with its file, row and column in a plain sentence; if any row is wrong nothing is loaded. Otherwise
all rows go in one transaction (a record already there is kept, so an interrupted import is run again) and
each new employee's case is started.

The format (UTF-8, a header row with exactly these columns, in any order):

| column | what |
|---|---|
| employee_id | the data owner's id, e.g. EMP0001234 (capitals, digits, '-') |
| employee_group | part1, part2 or hartron (must match the file's data owner) |
| name, father_name | as on the service record |
| date_of_birth, date_of_joining | YYYY-MM-DD |
| mobile | 10 digits, starting 6-9 (no +91) |
| family_id | the Family ID (Parivar Pehchan Patra) |
| department_code, district, post_code, ddo_code | as in the drop-down lists (load those first) |
| service_periods | from/to pairs separated by ';', to empty while serving: 2015-04-01/2019-03-31;2019-04-02/ |
| sanctioned_post | yes or no |
| pay_head | the budget head the pay is drawn from |
| status | active or inactive |
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import ValidationError

from ops.database import copy_new
from services.otp.records import COLUMNS, MASTER_COLUMNS, OWNER_OF_GROUP, RecordRow


@dataclass
class RowError:
    file: str
    row: int  # the line in the file (the header is line 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, {self.column}: {self.message}"


def read_records(
    files: dict[str, str], names: dict[str, str], drop_downs: dict[str, set[str]]
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """files: data owner -> the CSV text; names: data owner -> the file's name for the messages. Every row is
    checked (its fields, its data owner, its drop-down entries, an id given twice); all errors are returned."""
    records: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for owner, text in files.items():
        name = names.get(owner, owner)
        if owner not in OWNER_OF_GROUP.values():
            errors.append(RowError(name, 0, "-", f"{owner!r} is not a data owner (HKRN, TREASURY or HARTRON)"))
            continue
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip() for h in reader.fieldnames or []]
        missing, unknown = sorted(set(COLUMNS) - set(header)), sorted(set(header) - set(COLUMNS))
        if missing or unknown:
            problem = "; ".join(
                p
                for p in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(unknown)}" if unknown else "",
                )
                if p
            )
            errors.append(RowError(name, 1, "header", f"the columns are not the documented ones ({problem})"))
            continue
        for line, raw in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            here = len(errors)
            try:
                record: dict[str, Any] | None = RecordRow(**row).model_dump()
            except ValidationError as exc:
                record = None
                for e in exc.errors():
                    column = ".".join(str(p) for p in e["loc"]) or "-"
                    errors.append(RowError(name, line, column, e["msg"].removeprefix("Value error, ")))
            group = row.get("employee_group", "")
            if group in OWNER_OF_GROUP and OWNER_OF_GROUP[group] != owner:
                errors.append(
                    RowError(
                        name,
                        line,
                        "employee_group",
                        f"{group} records belong to {OWNER_OF_GROUP[group]}, not to {owner}",
                    )
                )
            for column, known in drop_downs.items():
                if row.get(column) and row[column] not in known:
                    errors.append(
                        RowError(name, line, column, f"{row[column]!r} is not in the drop-down list; add it first")
                    )
            employee_id = row.get("employee_id", "")
            if employee_id in seen:
                errors.append(RowError(name, line, "employee_id", f"{employee_id} is also on {seen[employee_id]}"))
            seen.setdefault(employee_id, f"{name} row {line}")
            if record is not None and len(errors) == here:
                records.append({**record, "data_owner": owner})
    return records, errors


async def copy_records(conn: asyncpg.Connection, records: list[dict[str, Any]]) -> None:
    """Add master records (rows keyed by MASTER_COLUMNS) to the OTP service's table, keeping those already there:
    the records import and the local stack's synthetic seed load the same way."""
    await copy_new(
        conn, "otp.employee_master", list(MASTER_COLUMNS), [tuple(r[c] for c in MASTER_COLUMNS) for r in records]
    )


async def load(
    database_url: str, temporal: Any, season_id: str, files: dict[str, Path], restart_failed: bool = False
) -> tuple[int, int, list[RowError]]:
    """Check every file, then load all or nothing and start the new employees' cases: (records loaded, cases
    started, errors). With `restart_failed`, also start again the cases of these employees whose runs failed."""
    from ops.cases import start_cases
    from ops.database import migrate_all
    from services.common.db import create_pool

    await migrate_all(database_url)
    pool = await create_pool(database_url, command_timeout=None)
    try:
        drop_downs = {
            "department_code": {r[0] for r in await pool.fetch("SELECT code FROM applications.department")},
            "district": {r[0] for r in await pool.fetch("SELECT name FROM applications.district")},
            "post_code": {r[0] for r in await pool.fetch("SELECT code FROM applications.post")},
            "ddo_code": {r[0] for r in await pool.fetch("SELECT ddo_code FROM applications.ddo")},
        }
        texts = {owner: path.read_text(encoding="utf-8") for owner, path in files.items()}
        records, errors = read_records(texts, {o: p.name for o, p in files.items()}, drop_downs)
        if errors:
            return 0, 0, errors
        async with pool.acquire() as conn, conn.transaction():
            before = await conn.fetchval("SELECT count(*) FROM otp.employee_master")
            await copy_records(conn, records)
            loaded = await conn.fetchval("SELECT count(*) FROM otp.employee_master") - before
    finally:
        await pool.close()
    return (
        loaded,
        await start_cases(temporal, records, season_id, show_progress=False, restart_failed=restart_failed),
        [],
    )
