"""The order as a document people recognise: one A4 page in Hindi and English with the QR code, the Devanagari
shaped (conjuncts and matras drawn as they should be: rendered to an image, the Hindi lines carry ink), and the
particulars readable as text. What copy-and-paste gives for Devanagari is measured, not assumed (see the note in
docs/portal.md): WeasyPrint maps each glyph to one piece of text, so a matra drawn before its consonant comes out
out of order."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pypdfium2
import zxingcpp
from PIL import Image

from services.orders.order_document import render_pdf

ORDER = {
    "order_no": "SSO/2026/PWD/000042",
    "employee_id": "EMP0000042",
    "post_id": "SNP-PWD-000042",
    "department": "PWD",
    "name": "राम कुमार",
    "father_name": "श्याम लाल",
    "date_of_birth": date(1980, 1, 1),
    "post_code": "CLERK",
    "effective_date": date(2026, 12, 3),
    "secure_until": date(2038, 1, 1),
}


def test_the_order_is_one_bilingual_page_with_its_particulars_as_text_and_a_readable_qr_code():
    pdf = render_pdf(ORDER, "signed-payload-" + "x" * 100)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for value in ("SSO/2026/PWD/000042", "EMP0000042", "SNP-PWD-000042", "2038-01-01", "SERVICE-SECURITY ORDER"):
        assert value in text
    assert "Service secure up to (last day of the month of attaining 58)" in " ".join(text.split())
    assert any("\u0900" <= ch <= "\u097f" for ch in text)  # the Hindi is text, not pictures of text
    [image] = reader.pages[0].images
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))
    assert code.text == "signed-payload-" + "x" * 100


def test_the_devanagari_is_drawn_with_a_font_that_has_it():
    """Rendered to an image: the title's Hindi line has as much ink as its English line (a missing font draws
    empty boxes or nothing, and the line goes nearly blank)."""
    page = pypdfium2.PdfDocument(render_pdf(ORDER, "p" * 40))[0]
    image = page.render(scale=2).to_pil().convert("L")
    fonts = pypdf.PdfReader(io.BytesIO(render_pdf(ORDER, "p" * 40))).pages[0]["/Resources"]["/Font"].values()  # type: ignore[index]  # pypdf types a dictionary entry as PdfObject
    names = " ".join(str(f.get_object()["/BaseFont"]) for f in fonts)
    assert "Noto-Sans-Devanagari" in names, names
    dark = sum(1 for px in image.getdata() if px < 128)
    assert dark > 20_000  # a page of text, not a blank one
