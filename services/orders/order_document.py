"""The service-security order as a document: a bilingual PDF (WeasyPrint, templates/order.html) with the employee's particulars, the post,
the effective date and the superannuation date up to which service is secure, and a QR code (qrcode) carrying a
payload signed with Ed25519 (a compact JWS, pyjwt). Anyone can check it against the published key."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import date
from typing import Any

import jwt
import qrcode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jinja2 import Environment, PackageLoader, select_autoescape
from weasyprint import HTML

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
_templates = Environment(loader=PackageLoader("services.orders", "templates"), autoescape=select_autoescape(["html"]))


def render_pdf(order: dict[str, Any], qr_payload: str) -> bytes:
    """The order as people recognise one: in Hindi and English, the Devanagari shaped by Pango and HarfBuzz
    (WeasyPrint) so conjuncts and matras are right and the text survives copy-and-paste, with the QR code."""
    qr_image = qrcode.make(qr_payload, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    png = io.BytesIO()
    qr_image.save(png, format="PNG")
    rows = [(hi, en, "" if order.get(key) is None else str(order[key])) for hi, en, key in ROWS]
    html = _templates.get_template("order.html").render(
        order=order, rows=rows, qr="data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    )
    return bytes(HTML(string=html).write_pdf())


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
