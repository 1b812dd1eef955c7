"""The service-security order as a document: a bilingual PDF (Typst, templates/order.typ) with the employee's
particulars, the post, the effective date and the superannuation date up to which service is secure, and a QR
code (qrcode) carrying a payload signed with Ed25519 (a compact JWS, pyjwt). Anyone can check it against the
published key.

Why Typst (the `typst` wheel, no system library): it writes PDF/UA-1 (tagged, each part's language, the title,
alt text for the QR code; it refuses to write a document that breaks the standard) and gives every shaped
Devanagari cluster its /ActualText, so a reader that honours the standard copies and reads the words as written
(WeasyPrint mapped each glyph to one piece of text: a matra drawn before its consonant came out out of order). It
also renders an order in a few milliseconds where WeasyPrint took about 190 ms of CPU."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import date
from importlib import resources
from typing import Any

import jwt
import qrcode
import qrcode.image.svg
import typst
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contract import RETIREMENT_AGE, superannuation_date

ISSUER = "seva-suraksha.haryana"


def signing_key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign_payload(key: Ed25519PrivateKey, order: dict[str, Any]) -> str:
    claims = {
        "iss": ISSUER,
        "ord": order["order_no"],
        "emp": order["employee_id"],
        "post": order["post_id"],
        "dept": order["department"],
        "eff": str(order["effective_date"]),
        "until": str(order["secure_until"]),
    }
    return jwt.encode(claims, key, algorithm="EdDSA")


def read_payload(public_key: Ed25519PublicKey, payload: str) -> dict[str, Any]:
    """The claims of a genuine payload; raises jwt.PyJWTError for anything not signed by our key."""
    return jwt.decode(payload, public_key, algorithms=["EdDSA"], issuer=ISSUER, options={"require": ["iss", "ord"]})


def secure_until(born: date) -> date:
    """Service is secure up to the superannuation date: the last day of the month in which the employee attains
    58 (the contract's one rule, shared with the eligibility check's way of counting age)."""
    return superannuation_date(born, RETIREMENT_AGE)


ROWS = (
    ("आदेश संख्या", "Order number", "order_no"),
    ("जारी करने की तिथि", "Date of issue", "effective_date"),
    ("कर्मचारी ID", "Employee ID", "employee_id"),
    ("नाम", "Name", "name"),
    ("पिता का नाम", "Father's name", "father_name"),
    ("जन्म तिथि", "Date of birth", "date_of_birth"),
    ("विभाग", "Department", "department"),
    ("पद", "Post", "post_code"),
    ("अधिसंख्य पद", "Supernumerary post", "post_id"),
    ("सेवा सुरक्षित, इस तिथि से", "Service secure with effect from", "effective_date"),
    (
        "सेवा सुरक्षित, इस तिथि तक (58 वर्ष की आयु वाले माह का अंतिम दिन)",
        "Service secure up to (last day of the month of attaining 58)",
        "secure_until",
    ),
)
TEMPLATE = resources.files("services.orders") / "templates" / "order.typ"
_compilers = threading.local()  # one Typst compiler (its fonts found once) per rendering thread


def render_pdf(order: dict[str, Any], qr_payload: str) -> bytes:
    """The order as people recognise one: in Hindi and English, the Devanagari shaped (HarfBuzz, in Typst) with
    the Noto fonts, as PDF/UA-1, with the QR code drawn as vectors (sharp at any zoom). CPU work: callers run it
    in a thread, never on the event loop."""
    qr = qrcode.make(
        qr_payload,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    ).to_string(encoding="unicode")
    rows = [(hi, en, "" if order.get(key) is None else str(order[key])) for hi, en, key in ROWS]
    compiler = getattr(_compilers, "compiler", None)
    if compiler is None:
        compiler = _compilers.compiler = typst.Compiler(str(TEMPLATE))
    pdf = compiler.compile(
        sys_inputs={"order": json.dumps({"order_no": order["order_no"], "rows": rows}), "qr": str(qr)},
        pdf_standards="ua-1",
    )
    assert isinstance(pdf, bytes)  # one document, not pages
    return pdf


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
