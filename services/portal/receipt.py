"""The application's receipt as a PDF the employee can keep or print: the same particulars as the receipt page,
in Hindi and English, rendered by Typst as PDF/UA-1 like the order (services/orders/order_document.py). Rendering
is CPU work: the page calls it in a thread."""

from __future__ import annotations

import json
import threading
from importlib import resources
from typing import Any

import typst

from . import i18n

TEMPLATE = resources.files("services.portal") / "templates" / "receipt.typ"
_compilers = threading.local()  # one Typst compiler (its fonts found once) per thread


def receipt_pdf(status: dict[str, Any], resubmitted: bool) -> bytes:
    hi, en = i18n.translator("hi"), i18n.translator("en")
    said = "receipt.resubmitted" if resubmitted else "receipt.body"
    no = str(status.get("application_no", ""))

    def both(key: str, value: Any = None, dated: bool = False) -> tuple[str, str]:
        if dated:
            return (i18n.when(value, "hi"), i18n.when(value, "en")) if value else ("—", "—")
        return hi(key), en(key)

    stage = both(f"stage.{status.get('stage')}") if i18n.has(f"stage.{status.get('stage')}") else ("—", "—")
    rows = [
        (hi("me.application_no"), en("me.application_no"), no, no),
        (hi("me.submitted"), en("me.submitted"), *both("", status.get("submitted_at"), dated=True)),
        (hi("me.stage"), en("me.stage"), *stage),
        (hi("me.next"), en("me.next"), *both("", status.get("next_deadline"), dated=True)),
    ]
    data = {"application_no": no, "said_hi": hi(said, no=no), "said_en": en(said, no=no), "rows": rows}
    compiler = getattr(_compilers, "compiler", None)
    if compiler is None:
        compiler = _compilers.compiler = typst.Compiler(str(TEMPLATE))
    pdf = compiler.compile(sys_inputs={"receipt": json.dumps(data)}, pdf_standards="ua-1")
    assert isinstance(pdf, bytes)
    return pdf
